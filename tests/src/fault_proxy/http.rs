//! Just enough HTTP/1.1 for a loopback proxy between the AWS SDK and moto: heads, `Content-Length`
//! and chunked bodies (decoded, then re-framed with `Content-Length`), keep-alive towards the client,
//! one `Connection: close` exchange per request towards the upstream.
use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The request as sent upstream: the body re-framed by length, and the connection closed after it
    /// (so the response's end is never in doubt).
    pub fn to_upstream_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        for (k, v) in &self.headers {
            if !["content-length", "transfer-encoding", "connection", "keep-alive", "expect"].contains(&k.to_ascii_lowercase().as_str()) {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        out.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, reason: reason(status).into(), headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The response as sent to the client over a kept-alive connection. A HEAD answer keeps the
    /// upstream's `Content-Length` and sends no body.
    pub fn to_client_bytes(&self, head_request: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        let skip: &[&str] = if head_request { &["transfer-encoding", "connection", "keep-alive"] } else { &["content-length", "transfer-encoding", "connection", "keep-alive"] };
        for (k, v) in &self.headers {
            if !skip.contains(&k.to_ascii_lowercase().as_str()) {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        if head_request {
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
            out.extend_from_slice(&self.body);
        }
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// The start line and headers; `None` at a clean end of stream before any byte.
async fn read_head<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Option<(String, Vec<(String, String)>)>> {
    let mut start = String::new();
    let mut headers = Vec::new();
    let mut total = 0;
    loop {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line).await?;
        if n == 0 {
            return if start.is_empty() && headers.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
        total += n;
        if total > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "HTTP head too large"));
        }
        let line = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
        if start.is_empty() {
            if line.is_empty() {
                continue; // tolerate stray CRLF between requests
            }
            start = line;
        } else if line.is_empty() {
            return Ok(Some((start, headers)));
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

async fn read_chunked<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let mut t = String::new();
                if r.read_line(&mut t).await? == 0 || t.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let at = body.len();
        body.resize(at + size, 0);
        r.read_exact(&mut body[at..]).await?;
        let mut crlf = String::new();
        r.read_line(&mut crlf).await?;
    }
}

async fn read_body<R: AsyncBufRead + Unpin>(r: &mut R, headers: &[(String, String)], to_eof: bool) -> io::Result<Vec<u8>> {
    if header(headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return read_chunked(r).await;
    }
    if let Some(len) = header(headers, "content-length") {
        let len: usize = len.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
        let mut body = vec![0; len];
        r.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    if to_eof {
        r.read_to_end(&mut body).await?;
    }
    Ok(body)
}

/// The next request on a client connection; `None` when the client closed it.
pub async fn read_request<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Option<Request>> {
    let Some((start, headers)) = read_head(r).await? else { return Ok(None) };
    let mut parts = start.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad request line: {start}")));
    };
    let body = read_body(r, &headers, false).await?;
    Ok(Some(Request { method: method.to_string(), target: target.to_string(), headers, body }))
}

/// The upstream's answer to a request sent with `Connection: close`.
pub async fn read_response<R: AsyncBufRead + Unpin>(r: &mut R, head_request: bool) -> io::Result<Response> {
    let (start, headers) = read_head(r).await?.ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "upstream closed without answering"))?;
    let mut parts = start.splitn(3, ' ');
    let _version = parts.next();
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad status line: {start}")))?;
    let reason = parts.next().unwrap_or("").to_string();
    let body = if head_request || status == 204 || status == 304 || status < 200 { Vec::new() } else { read_body(r, &headers, true).await? };
    Ok(Response { status, reason, headers, body })
}
