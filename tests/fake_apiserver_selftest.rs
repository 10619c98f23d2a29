//! Proves the in-test API server (tests/fake_apiserver) with kube-rs itself.

mod fake_apiserver;

#[test]
fn starts() {
    let s = fake_apiserver::FakeApiServer::start();
    assert!(s.url().starts_with("http://127.0.0.1:"));
}
