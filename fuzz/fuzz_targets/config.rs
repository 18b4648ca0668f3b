//! `ccaudit.yaml` configuration files.
#![no_main]

use ccaudit::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mut config) = Config::parse("ccaudit.yaml", text) {
        let _ = config.validate_checks(&["ACSFED-001", "LIC-001"]);
    }
});
