//! The token service's scope parser on arbitrary input: it must never panic, must refuse or
//! accept within its limits, and whatever it accepts must grant an anonymous viewer nothing
//! beyond pulls (no push, no delete, no catalog).
#![no_main]

use libfuzzer_sys::fuzz_target;
use regent_domain::access::{Access, Policy, Viewer};
use regent_domain::token::{MAX_SCOPES, allowed, parse_scopes};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let params: Vec<&str> = text.split('&').collect();
    let Ok(scopes) = parse_scopes(params.iter().copied()) else { return };
    assert!(scopes.len() <= MAX_SCOPES);
    let anonymous: Access = Policy::default().for_viewer(&Viewer::anonymous());
    for entry in allowed(&anonymous, &scopes) {
        assert!(entry.actions.is_empty(), "nothing granted, nothing given: {entry:?}");
    }
    let everything = Access::everything();
    for entry in allowed(&everything, &scopes) {
        assert!(entry.actions.iter().all(|a| ["pull", "push", "delete", "*"].contains(&a.as_str())));
    }
});
