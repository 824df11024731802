//! A fake Hugging Face hub on a loopback port, for offline tests of the real `hf-hub` client:
//! it answers `GET /{models/|datasets/}{repo}/resolve/{revision}/{file}` as the hub does for
//! hf-hub 0.5 (a `Range: bytes=0-0` probe answered 206 with `etag`, `x-repo-commit` and
//! `Content-Range: bytes 0-0/SIZE`, then the download from `Range: bytes=N-`), and refuses
//! a gated repository with 401 when no `Authorization` header is sent.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// Files served by a [`FakeHub`].
#[derive(Default, Clone)]
pub struct HubRepo {
    /// `datasets/org/name` or `org/name` (a model).
    pub path: String,
    pub commit: String,
    /// The revisions it answers to (a branch name, `refs/convert/parquet`, the commit).
    pub revisions: Vec<String>,
    pub files: BTreeMap<String, Vec<u8>>,
    /// Refuse requests without a token (401).
    pub gated: bool,
}

/// A running fake hub; it stops when dropped (the listener thread ends with the process).
pub struct FakeHub {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// Every request line it received, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl FakeHub {
    /// Serve `repos` on a free loopback port, in a background thread.
    pub fn start(repos: Vec<HubRepo>) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let repos = Arc::new(repos);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (repos, log) = (repos.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &repos, &log);
                });
            }
        });
        FakeHub { endpoint, requests }
    }
}

fn serve(stream: TcpStream, repos: &[HubRepo], log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        log.lock().unwrap().push(line.clone());
        let target = line.split(' ').nth(1).unwrap_or("").to_string();
        let (status, extra, body) = answer(&target, &headers, repos);
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(&body)?;
        out.flush()?;
    }
}

fn answer(
    target: &str,
    headers: &BTreeMap<String, String>,
    repos: &[HubRepo],
) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
    let target = target.replace("%2F", "/").replace("%2f", "/");
    let not_found = ("404 Not Found", vec![], b"not found".to_vec());
    for repo in repos {
        let Some(rest) = target.strip_prefix(&format!("/{}/resolve/", repo.path)) else {
            continue;
        };
        let Some(rev) = repo
            .revisions
            .iter()
            .chain(std::iter::once(&repo.commit))
            .find(|r| rest.starts_with(&format!("{r}/")))
        else {
            return not_found;
        };
        let file = &rest[rev.len() + 1..];
        if repo.gated && !headers.contains_key("authorization") {
            return (
                "401 Unauthorized",
                vec![],
                b"Access to this dataset is restricted".to_vec(),
            );
        }
        let Some(bytes) = repo.files.get(file) else {
            return not_found;
        };
        let size = bytes.len();
        let etag = hex::encode(Sha256::digest(bytes));
        let start = headers
            .get("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.split('-').next())
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
            .min(size);
        let end = match headers.get("range").map(String::as_str) {
            Some("bytes=0-0") => 1.min(size),
            _ => size,
        };
        let common = vec![
            ("ETag".to_string(), format!("\"{etag}\"")),
            ("X-Repo-Commit".to_string(), repo.commit.clone()),
            (
                "Content-Range".to_string(),
                format!("bytes {start}-{}/{size}", end.saturating_sub(1)),
            ),
        ];
        return ("206 Partial Content", common, bytes[start..end].to_vec());
    }
    not_found
}
