//! Slow clients: a client that sends its headers or its body a byte at a
//! time, a request whose upstream stalls, and more connections than the
//! gateway serves at once. Each is a real client on a raw TCP connection.

use std::net::SocketAddr;
use std::time::Duration;

use booking_core::widget_api::{QUEUE_TICKET_HEADER, SESSION_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Mode, Stack};

/// The timeouts the tests configure: short, so an attack is cut off soon.
const SHORT: Duration = Duration::from_secs(1);

/// How long a test waits for the gateway to act on a short timeout.
const DEADLINE: Duration = Duration::from_secs(5);

/// Connects to the gateway.
async fn connect(gateway: SocketAddr) -> TcpStream {
    TcpStream::connect(gateway).await.expect("gateway accepts")
}

/// Everything the gateway sends until it closes the connection (a reset
/// counts as closing), insisting that it does within `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&received).into_owned();
    assert!(
        closed.is_ok(),
        "the connection was still open after {within:?}; received {text:?}"
    );
    text
}

/// One whole answer on a kept-alive connection: its head and its body
/// (which must have a `Content-Length`).
async fn read_answer(stream: &mut TcpStream) -> (String, String) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut buffer).await.expect("an answer");
        assert!(read > 0, "closed before an answer");
        received.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().expect("a length"))
        })
        .expect("a Content-Length");
    while received.len() < head_end + length {
        let read = stream.read(&mut buffer).await.expect("the body");
        assert!(read > 0, "closed before the body");
        received.extend_from_slice(&buffer[..read]);
    }
    let body = String::from_utf8_lossy(&received[head_end..head_end + length]).into_owned();
    (head, body)
}

/// The status code of an answer's head.
fn status_of(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("")
}

#[tokio::test]
async fn a_client_sending_headers_slowly_is_cut_off() {
    let stack = Stack::start_with(|config, _| config.header_timeout = SHORT).await;
    let mut stream = connect(stack.gateway.local_addr()).await;
    stream
        .write_all(b"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Still-Typing: ")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, DEADLINE).await;
    assert_eq!(answer, "", "nothing is answered to an unfinished request");
}

#[tokio::test]
async fn a_client_sending_a_body_slowly_is_answered_408() {
    let stack = Stack::start_with(|config, _| config.body_timeout = SHORT).await;
    let mut stream = connect(stack.gateway.local_addr()).await;
    stream
        .write_all(
            b"POST /api/holds/release HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: text/plain\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, DEADLINE).await;
    assert_eq!(status_of(&answer), "408", "{answer}");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    let body: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn a_stalled_upstream_does_not_hold_the_request_past_its_timeout() {
    let stack = Stack::start_with(|config, _| {
        config.upstream_timeout = Duration::from_secs(30);
        config.request_timeout = SHORT;
    })
    .await;
    let widget = stack.widget().await;
    let stall = Duration::from_secs(4);
    stack.proxy.set_mode(Mode::Delay(stall));
    let request = |path: &str, extra: &str| {
        format!(
            "GET /api{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{SESSION_HEADER}: {}\r\n{extra}\
             Connection: close\r\n\r\n",
            widget.session
        )
    };

    let mut stream = connect(stack.gateway.local_addr()).await;
    stream
        .write_all(request("/courses", "").as_bytes())
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, SHORT + Duration::from_secs(2)).await;
    assert_eq!(status_of(&answer), "504", "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{answer}"
    );
    assert!(answer.contains("did not answer in time"), "{answer}");

    // A queued turn is given longer: the same stall is waited out.
    let mut stream = connect(stack.gateway.local_addr()).await;
    let ticket = format!("{QUEUE_TICKET_HEADER}: 0123456789abcdef\r\n");
    stream
        .write_all(request("/training-events?course_id=1", &ticket).as_bytes())
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, stall + DEADLINE).await;
    assert_eq!(status_of(&answer), "200", "{answer}");
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    const CAP: u32 = 3;
    let stack = Stack::start_with(|config, _| {
        config.max_connections = CAP;
        // Long enough that the open connections stay open while idle.
        config.header_timeout = Duration::from_secs(60);
    })
    .await;
    let gateway = stack.gateway.local_addr();
    let ask = b"GET /api/no-such-route HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut open = Vec::new();
    for _ in 0..CAP {
        let mut stream = connect(gateway).await;
        stream.write_all(ask).await.unwrap();
        let (head, _) = tokio::time::timeout(DEADLINE, read_answer(&mut stream))
            .await
            .expect("a connection under the cap is served");
        assert_eq!(status_of(&head), "404", "{head}");
        open.push(stream);
    }

    let mut over = connect(gateway).await;
    over.write_all(
        b"GET /api/no-such-route HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    // Reading is cancel-safe: a read that times out has taken nothing.
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(SHORT, over.read(&mut first)).await;
    assert!(
        early.is_err(),
        "a connection over the cap was served while {CAP} were open: {early:?}"
    );

    drop(open.pop());
    let answer = read_until_closed(&mut over, DEADLINE).await;
    assert_eq!(status_of(&answer), "404", "{answer}");
}
