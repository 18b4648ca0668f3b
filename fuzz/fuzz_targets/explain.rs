//! `ccaudit explain`: pasted text looked up in the built-in knowledge base, and the text read
//! as a knowledge-base file.
#![no_main]

use std::sync::LazyLock;

use ccaudit::triage::explain::KnowledgeBase;
use libfuzzer_sys::fuzz_target;

static KB: LazyLock<KnowledgeBase> =
    LazyLock::new(|| KnowledgeBase::builtin().expect("the built-in knowledge base parses"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = KB.lookup(text);
    let _ = KB.closest(text, 5);
    if let Ok(kb) = KnowledgeBase::parse("fuzz.yaml", text) {
        let _ = kb.lookup("AADSTS7000215 403 Forbidden");
    }
});
