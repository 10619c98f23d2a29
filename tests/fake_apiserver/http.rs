//! The HTTP side of the fake API server: the accept loop on its own
//! current-thread tokio runtime, request recording and overrides, routing of
//! kube-apiserver paths to the store's verbs, chunked watch streams, and the
//! canned exec answer.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot};

use super::discovery::{self, ResourceType};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{Event, Res, State, WriteOpts};
use super::{Canned, Recorded, status};

type Body = BoxBody<Bytes, Infallible>;
type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Serves until `stop` fires (or its sender is dropped); dropping the
/// runtime then cancels every connection, so open watches end.
pub fn serve(listener: std::net::TcpListener, state: Shared, stop: oneshot::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the fake API server's tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let mut stop = stop;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let state = Arc::clone(&state);
                            async move { Ok::<_, Infallible>(handle(&state, req).await) }
                        });
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
            }
        }
    });
}

/// Query string pairs, percent- and `+`-decoded.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn full(
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(String, String)],
) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header("Content-Type", content_type);
    for (k, v) in headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(body)).boxed())
        .expect("a valid response")
}

fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response<Body> {
    full(
        status,
        "application/json",
        serde_json::to_vec(body).expect("JSON"),
        headers,
    )
}

fn status_response(body: &Value) -> Response<Body> {
    let code = body
        .get("code")
        .and_then(Value::as_u64)
        .map_or(500, |c| c as u16);
    json_response(code, body, &[])
}

fn canned(c: &Canned) -> Response<Body> {
    json_response(c.status, &c.body, &c.headers)
}

fn not_found_page() -> Response<Body> {
    full(
        404,
        "text/plain; charset=utf-8",
        b"404 page not found\n".to_vec(),
        &[],
    )
}

fn reply(res: Res) -> Response<Body> {
    match res {
        Ok(r) => {
            let headers: Vec<(String, String)> = r
                .warnings
                .into_iter()
                .map(|w| ("Warning".to_owned(), w))
                .collect();
            json_response(r.status, &r.body, &headers)
        }
        Err(s) => status_response(&s),
    }
}

async fn handle(state: &Shared, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let rec = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        content_type: header("content-type"),
        authorization: header("authorization"),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        status: 0,
    };
    let accept = header("accept").unwrap_or_default();
    let user_agent = header("user-agent").unwrap_or_default();
    route(state, &rec, &accept, &user_agent)
}

fn take_override(st: &mut State, rec: &Recorded) -> Option<Canned> {
    let i = st
        .overrides
        .iter()
        .position(|o| o.remaining != Some(0) && (o.matcher)(rec))?;
    let o = &mut st.overrides[i];
    if let Some(n) = o.remaining.as_mut() {
        *n -= 1;
    }
    let response = o.response.clone();
    st.overrides.retain(|o| o.remaining != Some(0));
    Some(response)
}

/// The body of a write: JSON, or YAML for apply patches.
fn parse_body(rec: &Recorded) -> Result<Value, Value> {
    if let Ok(v) = serde_json::from_str::<Value>(&rec.body) {
        return Ok(v);
    }
    let yaml = rec
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("yaml"));
    if yaml && let Ok(v) = serde_saphyr::from_str::<Value>(&rec.body) {
        return Ok(v);
    }
    Err(status::bad_request(&format!(
        "couldn't get version/kind; json parse error: the body is not {}",
        if yaml { "YAML" } else { "JSON" }
    )))
}

/// Records `rec`, answers it, and records the answer's status code.
fn route(state: &Shared, rec: &Recorded, accept: &str, user_agent: &str) -> Response<Body> {
    let mut st = lock(state);
    let index = st.requests.len();
    st.requests.push(rec.clone());
    let response = match take_override(&mut st, rec) {
        Some(c) => canned(&c),
        None => answer(&mut st, rec, accept, user_agent),
    };
    st.requests[index].status = response.status().as_u16();
    response
}

fn answer(st: &mut State, rec: &Recorded, accept: &str, user_agent: &str) -> Response<Body> {
    let params = parse_query(&rec.query);
    let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let get = rec.method == "GET";
    let path = rec.path.trim_end_matches('/');
    let aggregated = accept.contains("apidiscovery.k8s.io");
    let agg = |core| json_response(200, &discovery::aggregated(core), &[]);
    match path {
        "/version" if get => return json_response(200, &discovery::version(), &[]),
        "/healthz" | "/readyz" | "/livez" if get => {
            return full(200, "text/plain; charset=utf-8", b"ok".to_vec(), &[]);
        }
        "/api" if get && aggregated => return with_type(agg(true), discovery::AGGREGATED),
        "/apis" if get && aggregated => return with_type(agg(false), discovery::AGGREGATED),
        "/api" if get => return json_response(200, &discovery::core_versions(), &[]),
        "/apis" if get => return json_response(200, &discovery::group_list(), &[]),
        _ => {}
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return not_found_page(),
    };
    if !discovery::serves(group, version) {
        return not_found_page();
    }
    if rest.is_empty() {
        return if get {
            json_response(200, &discovery::resource_list(group, version), &[])
        } else {
            status_response(&status::method_not_allowed())
        };
    }
    let namespaced_path = rest[0] == "namespaces"
        && rest.len() >= 3
        && discovery::find(group, version, rest[2]).is_some_and(|t| t.namespaced);
    let (ns, plural, name, sub) = if namespaced_path {
        (
            Some(rest[1].to_owned()),
            rest[2],
            rest.get(3).copied(),
            rest.get(4).copied(),
        )
    } else {
        (None, rest[0], rest.get(1).copied(), rest.get(2).copied())
    };
    if rest.len() > if namespaced_path { 5 } else { 3 } {
        return not_found_page();
    }
    let Some(rt) = discovery::find(group, version, plural) else {
        return status_response(&status::no_such_resource());
    };
    let ns = ns.as_deref();
    let labels = match LabelSelector::parse(&param("labelSelector").unwrap_or_default()) {
        Ok(l) => l,
        Err(e) => return status_response(&status::bad_request(&e)),
    };
    let fields = match FieldSelector::parse(&param("fieldSelector").unwrap_or_default()) {
        Ok(f) => f,
        Err(e) => return status_response(&status::bad_request(&e)),
    };
    let body_dry_run = rec
        .body_json()
        .and_then(|b| b.get("dryRun").cloned())
        .is_some_and(|d| d.as_array().is_some_and(|a| a.iter().any(|x| x == "All")));
    let opts = WriteOpts {
        dry_run: param("dryRun").as_deref() == Some("All") || body_dry_run,
        field_manager: param("fieldManager").filter(|m| !m.is_empty()),
        force: param("force").as_deref() == Some("true"),
        user_agent: user_agent.to_owned(),
    };

    if !rt.stored {
        return match (rec.method.as_str(), name) {
            ("POST", None) => match parse_body(rec) {
                Ok(body) => reply(st.review(rt, ns, body)),
                Err(s) => status_response(&s),
            },
            _ => status_response(&status::method_not_allowed()),
        };
    }
    if rt.namespaced && ns.is_none() && rec.method != "GET" {
        return status_response(&status::method_not_allowed());
    }

    match (rec.method.as_str(), name, sub) {
        ("GET", None, None) => {
            let watch = matches!(param("watch").as_deref(), Some("true" | "1"));
            if watch {
                let timeout = param("timeoutSeconds")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(300);
                let send_initial = param("sendInitialEvents").as_deref() == Some("true");
                watch_response(
                    st,
                    rt,
                    ns,
                    labels,
                    fields,
                    param("resourceVersion").as_deref(),
                    timeout,
                    send_initial,
                )
            } else {
                reply(st.list(rt, ns, &labels, &fields))
            }
        }
        ("GET", Some(n), None | Some("status")) => reply(st.get(rt, ns, n)),
        (_, Some(n), Some("exec" | "attach" | "portforward")) if rt.kind == "Pod" => {
            if let Err(s) = st.get(rt, ns, n) {
                return status_response(&s);
            }
            match &st.exec_response {
                Some(c) => canned(c),
                None => status_response(&status::bad_request(
                    "fake API server: no exec answer set (FakeApiServer::set_exec_response)",
                )),
            }
        }
        ("POST", None, None) => match parse_body(rec) {
            Ok(body) => reply(st.create(rt, ns, body, &opts)),
            Err(s) => status_response(&s),
        },
        ("PUT", Some(n), None | Some("status")) => match parse_body(rec) {
            Ok(body) => reply(st.replace(rt, ns, n, body, sub.is_some(), &opts)),
            Err(s) => status_response(&s),
        },
        ("PATCH", Some(n), None | Some("status")) => {
            let ct = rec.content_type.clone().unwrap_or_default();
            let body = match parse_body(rec) {
                Ok(b) => b,
                Err(s) => return status_response(&s),
            };
            if ct.starts_with("application/apply-patch+yaml") && sub.is_none() {
                reply(st.apply(rt, ns, n, body, &opts))
            } else if ct.starts_with("application/merge-patch+json")
                || ct.starts_with("application/strategic-merge-patch+json")
            {
                reply(st.patch(rt, ns, n, &body, sub.is_some(), &opts))
            } else {
                status_response(&status::unsupported_media_type(&ct))
            }
        }
        ("DELETE", Some(n), None) => reply(st.delete(rt, ns, n, opts.dry_run)),
        ("DELETE", None, None) => {
            reply(st.delete_collection(rt, ns, &labels, &fields, opts.dry_run))
        }
        _ => status_response(&status::method_not_allowed()),
    }
}

fn with_type(mut r: Response<Body>, content_type: &str) -> Response<Body> {
    r.headers_mut()
        .insert("Content-Type", content_type.parse().expect("header value"));
    r
}

/// What one watch sees.
struct WatchFilter {
    rt: &'static ResourceType,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": object})).expect("JSON");
    v.push(b'\n');
    Bytes::from(v)
}

impl WatchFilter {
    fn matches(&self, v: &Value) -> bool {
        self.labels.matches(v) && self.fields.matches(v)
    }

    fn event(&self, ev: &Event) -> Option<Bytes> {
        if !std::ptr::eq(ev.rt, self.rt) || self.ns.as_ref().is_some_and(|ns| *ns != ev.namespace) {
            return None;
        }
        let now = self.matches(&ev.object);
        let kind = match (ev.kind, now, ev.old.as_ref().map(|o| self.matches(o))) {
            ("MODIFIED", true, Some(true)) => "MODIFIED",
            ("MODIFIED", true, _) => "ADDED",
            ("MODIFIED", false, Some(true)) => "DELETED",
            ("ADDED" | "DELETED", true, _) => ev.kind,
            _ => return None,
        };
        Some(line(kind, &ev.object))
    }
}

struct WatchState {
    queue: VecDeque<Bytes>,
    rx: broadcast::Receiver<Event>,
    deadline: tokio::time::Instant,
    filter: WatchFilter,
}

#[allow(clippy::too_many_arguments)]
fn watch_response(
    st: &mut State,
    rt: &'static ResourceType,
    ns: Option<&str>,
    labels: LabelSelector,
    fields: FieldSelector,
    resource_version: Option<&str>,
    timeout: u64,
    send_initial: bool,
) -> Response<Body> {
    let filter = WatchFilter {
        rt,
        ns: ns.map(str::to_owned),
        labels,
        fields,
    };
    let mut queue = VecDeque::new();
    match resource_version {
        None | Some("" | "0") => {
            for obj in st.select(rt, ns, &filter.labels, &filter.fields) {
                queue.push_back(line("ADDED", &obj));
            }
        }
        Some(rv) => {
            let Ok(rv) = rv.parse::<u64>() else {
                return status_response(&status::bad_request(&format!(
                    "invalid resource version: {rv}"
                )));
            };
            for ev in st.history.iter().filter(|e| e.rv > rv) {
                if let Some(b) = filter.event(ev) {
                    queue.push_back(b);
                }
            }
        }
    }
    if send_initial {
        let bookmark = json!({
            "kind": rt.kind,
            "apiVersion": rt.api_version(),
            "metadata": {
                "resourceVersion": st.rv.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"}
            }
        });
        queue.push_back(line("BOOKMARK", &bookmark));
    }
    let state = WatchState {
        queue,
        rx: st.events.subscribe(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(timeout),
        filter,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        if let Some(b) = s.queue.pop_front() {
            return Some((Ok::<_, Infallible>(Frame::data(b)), s));
        }
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(s.deadline) => return None,
                ev = s.rx.recv() => match ev {
                    Ok(ev) => {
                        if let Some(b) = s.filter.event(&ev) {
                            return Some((Ok(Frame::data(b)), s));
                        }
                    }
                    Err(_) => return None,
                },
            }
        }
    });
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .body(StreamBody::new(stream).boxed())
        .expect("a valid response")
}
