//! The handshake request, copied out of hyper's read buffer before socketioxide keeps it.
//!
//! hyper parses a request's URI and header values as slices of its connection read buffer (an
//! 8–16 KiB allocation), and engineioxide keeps the handshake's `http::request::Parts` for the
//! whole life of the socket (`SocketRef::req_parts`). Each idle socket would so hold its
//! connection's entire read buffer. Copying the URI and the headers into their own small
//! allocations lets that buffer go once the connection is upgraded.

use axum::{
    extract::Request,
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
    use axum::body::Body;

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
}
