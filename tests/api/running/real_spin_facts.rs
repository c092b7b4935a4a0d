//! Facts about real Spin that the test host must reproduce, checked on whichever backend runs:
//! under `SPIN_BIN` they are Spin's own behaviour, under the test host they pin its model of it.

use crate::helpers::{manifest, TestApp};

/// Opening a Redis connection makes Spin resolve every application variable once (it evaluates
/// the templated `allowed_outbound_hosts` then), on top of the component's own lookups; a
/// request that never opens Redis resolves only what the component reads. Seen under Spin 4.0.2
/// and 3.6.3 with a counting variable provider; the test host models it
/// (`RequestRecord::variables_resolved`) so that its costs are Spin's.
#[test]
fn opening_redis_resolves_every_application_variable_once() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let variables = &manifest().variables;

    let opened = app.observe(|| app.get("/healthz"));
    assert_eq!((opened.response.status, opened.redis_opens), (200, 1));
    for name in variables.keys() {
        assert!(opened.variables_resolved.get(name).copied().unwrap_or(0) >= 1, "{name} not resolved: {opened:?}");
    }
    // The rest is the component's own lookups, each a whole component variable (`observe`
    // checks that accounting on every request).
    assert!(opened.variable_gets >= 1, "{opened:?}");

    // An unknown path is answered before any lookup: nothing is resolved at all.
    let not_opened = app.observe(|| app.get("/no/such/path"));
    assert_eq!((not_opened.response.status, not_opened.redis_opens, not_opened.variable_gets), (404, 0, 0));
    assert!(not_opened.variables_resolved.is_empty(), "{not_opened:?}");
}
