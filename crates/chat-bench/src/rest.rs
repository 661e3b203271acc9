//! Just enough HTTP/1.1 for the REST calls a run makes before it starts: one request per TCP
//! connection (`Connection: close`), the answer read to the end.

use serde::Deserialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::sio::{Endpoint, tcp_connect};

/// A REST call that failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Connecting, writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The answer is not HTTP the client understands.
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
    /// A status other than the expected ones.
    #[error("{method} {path}: status {status}: {body}")]
    Status {
        /// The method.
        method: &'static str,
        /// The path.
        path: String,
        /// The status.
        status: u16,
        /// The body (problem+json).
        body: String,
    },
}

/// A status and a body.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, de-chunked.
    pub body: String,
}

/// Sends one request and reads the whole answer.
///
/// # Errors
/// I/O failures and answers that are not HTTP/1.1.
pub async fn request(
    endpoint: &Endpoint,
    method: &'static str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> Result<Answer, RestError> {
    let mut stream = tcp_connect(endpoint.addr, None).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\n",
        endpoint.authority
    );
    if let Some(token) = bearer {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Result<Answer, RestError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(RestError::Malformed("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| RestError::Malformed("headers"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or(RestError::Malformed("status line"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let rest = &raw[split + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, RestError> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(RestError::Malformed("chunk size"))?;
        let size_text = std::str::from_utf8(&rest[..line_end])
            .map_err(|_| RestError::Malformed("chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| RestError::Malformed("chunk size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest
            .get(..size)
            .ok_or(RestError::Malformed("short chunk"))?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
}

/// `POST /conversations/create/one-to-one` as the user of `token`, with `participant`; the
/// conversation id.
///
/// # Errors
/// A transport failure or a status other than 200/201.
pub async fn create_one_to_one(
    endpoint: &Endpoint,
    token: &str,
    participant: &str,
) -> Result<String, RestError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Conversation {
        conversation_id: String,
    }
    let path = "/conversations/create/one-to-one";
    let body = serde_json::json!({ "participantId": participant }).to_string();
    let answer = request(endpoint, "POST", path, Some(token), Some(&body)).await?;
    if !matches!(answer.status, 200 | 201) {
        return Err(RestError::Status {
            method: "POST",
            path: path.to_owned(),
            status: answer.status,
            body: answer.body,
        });
    }
    serde_json::from_str::<Conversation>(&answer.body)
        .map(|c| c.conversation_id)
        .map_err(|_| RestError::Malformed("Conversation body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_chunked_answers_are_read() {
        let plain = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
        let a = parse_answer(plain).unwrap();
        assert_eq!((a.status, a.body.as_str()), (201, "{}"));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        let a = parse_answer(chunked).unwrap();
        assert_eq!((a.status, a.body.as_str()), (200, "{\"a\":1}"));
    }
}
