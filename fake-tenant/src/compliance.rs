//! Security & Compliance REST `InvokeCommand` (`POST /compliance/adminapi/beta/{tid}/InvokeCommand`).

use serde_json::Value;

use crate::http::{Ctx, Reply, Service, fact_error, not_found, route, service_error};
use crate::index::Fact;
use crate::paging::{listed, skiptoken_reply};

pub(crate) fn handle(ctx: &Ctx, body: &[u8]) -> Reply {
    let Some(c) = route(&ctx.segs, &["adminapi", "beta", "*", "InvokeCommand"]) else {
        return not_found(
            Service::Compliance,
            "fake-tenant serves only POST /adminapi/beta/{tenant}/InvokeCommand here.",
        );
    };
    if !ctx.st.index.is_tenant(c[0]) {
        return not_found(
            Service::Compliance,
            &format!("Tenant '{}' was not found.", c[0]),
        );
    }
    let bad = |msg: &str| service_error(Service::Compliance, 400, "BadRequest", msg);
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad(&format!("The request body is not valid JSON: {e}")),
    };
    let Some(cmdlet) = parsed
        .get("CmdletInput")
        .and_then(|c| c.get("CmdletName"))
        .and_then(Value::as_str)
    else {
        return bad(
            "The request body must be {\"CmdletInput\":{\"CmdletName\":\"Get-...\",\"Parameters\":{}}}.",
        );
    };
    let mut reply = invoke(ctx, cmdlet);
    reply.notes.push(cmdlet.to_string());
    reply
}

fn invoke(ctx: &Ctx, cmdlet: &str) -> Reply {
    let Some(noun) = cmdlet
        .get(..4)
        .filter(|verb| verb.eq_ignore_ascii_case("Get-"))
        .map(|_| &cmdlet[4..])
    else {
        return service_error(
            Service::Compliance,
            400,
            "BadRequest",
            &format!(
                "fake-tenant: only Get-* cmdlets are served (read-only client); refused '{cmdlet}'."
            ),
        )
        .fault("non_get_cmdlet");
    };
    let key = format!("compliance.{noun}");
    let data = match ctx.st.index.fact_ci(&key) {
        None => {
            return not_found(
                Service::Compliance,
                &format!(
                    "The term '{cmdlet}' is not recognized as a cmdlet in this fake tenant (fact {key} is not in the snapshot)."
                ),
            );
        }
        Some((_, Fact::Error(e))) => return fact_error(Service::Compliance, e),
        Some((_, Fact::Data(d))) => d,
    };
    let Some((obj, items)) = listed(data, "value") else {
        return Reply::json(200, data.clone());
    };
    let refs: Vec<&Value> = items.iter().collect();
    skiptoken_reply(ctx, obj, &refs, ctx.page_size(), "@odata.nextLink", || {
        service_error(
            Service::Compliance,
            400,
            "BadRequest",
            "Invalid $skiptoken.",
        )
    })
}
