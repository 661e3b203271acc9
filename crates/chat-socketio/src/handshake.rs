//! The handshake request, copied out of hyper's read buffer before socketioxide keeps it.
//!
//! hyper parses a request's URI and header values as slices of its connection read buffer (an
//! 8–16 KiB allocation), and engineioxide keeps the handshake's `http::request::Parts` for the
//! whole life of the socket (`SocketRef::req_parts`). Each idle socket would so hold its
//! connection's entire read buffer. Copying the URI and the headers into their own small
//! allocations lets that buffer go once the connection is upgraded.
//!
//! axum's router also stores a clone of the URI in the request's extensions (`OriginalUri`)
//! before any layer runs, and the extensions are part of the kept `Parts`: that copy is
//! replaced too, or it alone holds the buffer.

use axum::{
    extract::{OriginalUri, Request},
    http::{HeaderMap, HeaderValue, Uri},
};

/// The path under which socketioxide serves (its default `req_path`).
const SOCKET_IO_PATH: &str = "/socket.io";

/// Gives a Socket.IO request a URI and headers that share no memory with the connection's
/// read buffer; other requests pass unchanged.
pub(crate) async fn detach_from_read_buffer(req: Request) -> Request {
    if !req.uri().path().starts_with(SOCKET_IO_PATH) {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    parts.uri = own_uri(&parts.uri);
    parts.headers = own_headers(&parts.headers);
    if let Some(OriginalUri(original)) = parts.extensions.get_mut::<OriginalUri>() {
        *original = own_uri(original);
    }
    Request::from_parts(parts, body)
}

fn own_uri(uri: &Uri) -> Uri {
    // Parsing from a `&str` copies it into a new allocation.
    uri.to_string().parse().unwrap_or_else(|_| uri.clone())
}

fn own_headers(headers: &HeaderMap) -> HeaderMap {
    let mut owned = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        // `from_bytes` copies; a value it refuses was accepted by hyper, so keep it as it is.
        let copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        owned.append(name.clone(), copy);
    }
    owned
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, Bytes};

    use super::*;

    #[tokio::test]
    async fn socket_io_requests_keep_their_uri_and_headers() {
        let req = Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket&token=abc")
            .header("host", "127.0.0.1:3000")
            .header("x-a", "1")
            .header("x-a", "2")
            .body(Body::empty())
            .unwrap_or_default();
        let req = detach_from_read_buffer(req).await;
        assert_eq!(
            req.uri().to_string(),
            "/socket.io/?EIO=4&transport=websocket&token=abc"
        );
        assert_eq!(
            req.headers().get("host").map(HeaderValue::as_bytes),
            Some(&b"127.0.0.1:3000"[..])
        );
        let all: Vec<_> = req.headers().get_all("x-a").iter().collect();
        assert_eq!(all, ["1", "2"]);
    }

    /// Whether `part` lies inside `buffer`'s memory.
    fn inside(buffer: &Bytes, part: &[u8]) -> bool {
        let range = buffer.as_ptr_range();
        range.contains(&part.as_ptr())
    }

    #[tokio::test]
    async fn nothing_kept_points_into_the_read_buffer() {
        // As hyper parses it: the URI and header values are slices of one read buffer, and
        // axum's router has put a clone of the URI in the extensions.
        let buffer =
            Bytes::from(b"/socket.io/?EIO=4&transport=websocket&token=abc127.0.0.1:3000".to_vec());
        let uri = Uri::from_maybe_shared(buffer.slice(..47)).unwrap_or_default();
        let host = HeaderValue::from_maybe_shared(buffer.slice(47..))
            .unwrap_or(HeaderValue::from_static(""));
        let mut req = Request::builder()
            .uri(uri.clone())
            .header("host", host)
            .body(Body::empty())
            .unwrap_or_default();
        req.extensions_mut().insert(OriginalUri(uri));
        assert!(
            inside(&buffer, req.uri().path().as_bytes()),
            "the set-up shares the buffer"
        );

        let req = detach_from_read_buffer(req).await;

        assert_eq!(req.uri().path(), "/socket.io/");
        assert!(!inside(&buffer, req.uri().path().as_bytes()));
        assert!(!inside(
            &buffer,
            req.uri().query().unwrap_or_default().as_bytes()
        ));
        let host = req
            .headers()
            .get("host")
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        assert_eq!(host, b"127.0.0.1:3000");
        assert!(!inside(&buffer, host));
        let original = req
            .extensions()
            .get::<OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_default();
        assert_eq!(original.path(), "/socket.io/");
        assert!(!inside(&buffer, original.path().as_bytes()));
        assert!(!inside(
            &buffer,
            original.query().unwrap_or_default().as_bytes()
        ));
    }
}
