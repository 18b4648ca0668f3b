//! Security & Compliance REST `InvokeCommand`: the front door
//! (`POST /compliance/adminapi/beta/{tid}/InvokeCommand`) and the regional stand-in
//! (`POST /compliance/regions/{region}/adminapi/beta/{tid}/InvokeCommand`), which an overridden
//! client maps `{region}.ps.compliance.protection.outlook.com` to.

use serde_json::Value;

use crate::http::{Ctx, Reply, Service, fact_error, not_found, route, service_error};
use crate::index::Fact;
use crate::paging::{listed, skiptoken_reply};

pub(crate) const FRONT_DOOR: [&str; 4] = ["adminapi", "beta", "*", "InvokeCommand"];
pub(crate) const REGIONAL: [&str; 6] = ["regions", "*", "adminapi", "beta", "*", "InvokeCommand"];

pub(crate) fn handle(ctx: &Ctx, body: &[u8]) -> Reply {
    let tenant = if let Some(c) = route(&ctx.segs, &FRONT_DOOR) {
        if let Some(location) = &ctx.st.opts.faults.compliance_redirect {
            return Reply::raw(302, "text/html; charset=utf-8", "")
                .header(
                    "Location",
                    format!("{location}/adminapi/beta/{}/InvokeCommand", c[0]),
                )
                .fault("compliance_redirect");
        }
        c[0]
    } else if let Some(c) = route(&ctx.segs, &REGIONAL) {
        c[1]
    } else {
        return not_found(
            Service::Compliance,
            "fake-tenant serves only POST [/regions/{region}]/adminapi/beta/{tenant}/InvokeCommand here.",
        );
    };
    if !ctx.st.index.is_tenant(tenant) {
        return not_found(
            Service::Compliance,
            &format!("Tenant '{tenant}' was not found."),
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
