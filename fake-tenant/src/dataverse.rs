//! The Dataverse Web API (`/dataverse/api/data/v9.x/{entityset}`, apis.md D).

use serde_json::{Value, json};

use crate::http::{Ctx, Reply, Service, fact_error, not_found, pct_encode, route, service_error};
use crate::index::Fact;
use crate::paging::{listed, page};

/// Dataverse's default and maximum page size.
const MAX_PAGE: usize = 5000;

pub(crate) fn handle(ctx: &Ctx) -> Reply {
    // `/dataverse/orgs/{name}/...`: another org of the tenant (the Default environment the
    // Power Platform admin API lists), without the Contact Center solution.
    if let Some(c) = route(&ctx.segs, &["orgs", "*", "api", "data", "*", "*"]) {
        let (version, entity) = (c[1], c[2]);
        return if entity.eq_ignore_ascii_case("WhoAmI") {
            who_am_i(ctx, version)
        } else {
            segment_not_found(entity)
        };
    }
    let Some(c) = route(&ctx.segs, &["api", "data", "*", "*"]) else {
        return segment_not_found(ctx.segs.last().map(String::as_str).unwrap_or(""));
    };
    let (version, entity) = (c[0], c[1]);
    if !version.to_ascii_lowercase().starts_with("v9.") {
        return segment_not_found(version);
    }
    if entity.eq_ignore_ascii_case("WhoAmI") {
        return who_am_i(ctx, version);
    }
    entity_set(ctx, entity)
}

fn who_am_i(ctx: &Ctx, version: &str) -> Reply {
    let id = |n: u8| format!("{n:08x}-0000-4000-8000-00000000f{n:03x}");
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/dataverse/api/data/{version}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", ctx.st.base),
            "BusinessUnitId": id(1), "UserId": id(2), "OrganizationId": id(3),
        }),
    )
}

fn segment_not_found(segment: &str) -> Reply {
    not_found(
        Service::Dataverse,
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// `Prefer: odata.maxpagesize=N`, if sent.
fn max_page_size(ctx: &Ctx) -> Option<usize> {
    let prefer = ctx.header("prefer")?;
    prefer.split(',').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        if k.trim().eq_ignore_ascii_case("odata.maxpagesize") {
            v.trim()
                .trim_matches('"')
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
        } else {
            None
        }
    })
}

/// The paging cookie as Dataverse shapes it; the offset hides in `pagingcookie`.
fn cookie(page_number: usize, offset: usize) -> String {
    let inner = format!(
        "<cookie pagenumber=\"{page_number}\" pagingcookie=\"fto{offset}\" istracking=\"False\" />"
    );
    pct_encode(&inner)
}

fn parse_cookie(text: &str) -> Option<usize> {
    let start = text.find("pagingcookie=\"fto")? + "pagingcookie=\"fto".len();
    let rest = &text[start..];
    let end = rest.find('"')?;
    rest[..end].parse().ok()
}

fn entity_set(ctx: &Ctx, entity: &str) -> Reply {
    if ctx.param("$skip").is_some() {
        return service_error(
            Service::Dataverse,
            400,
            "0x80060888",
            "The query parameter $skip is not supported",
        );
    }
    let key = format!("dataverse.{entity}");
    let data = match ctx.st.index.fact_ci(&key) {
        None => return segment_not_found(entity),
        Some((_, Fact::Error(e))) => return fact_error(Service::Dataverse, e),
        Some((_, Fact::Data(d))) => d,
    };
    let Some((obj, items)) = listed(data, "value") else {
        return Reply::json(200, data.clone());
    };
    let offset = match ctx.param("$skiptoken") {
        None => 0,
        Some(t) => match parse_cookie(t) {
            Some(o) => o,
            None => {
                return service_error(
                    Service::Dataverse,
                    400,
                    "0x80040216",
                    "The paging cookie in $skiptoken is malformed.",
                );
            }
        },
    };
    let prefer = max_page_size(ctx);
    let len = prefer
        .unwrap_or(MAX_PAGE)
        .min(MAX_PAGE)
        .min(ctx.page_size());
    let refs: Vec<&Value> = items.iter().collect();
    let (mut body, next) = page(obj, "value", &refs, offset, len, ctx.cycle());
    if let Some(next) = next {
        let add = if next == 0 {
            vec![]
        } else {
            vec![("$skiptoken", cookie(next / len + 1, next))]
        };
        body.insert(
            "@odata.nextLink".into(),
            Value::String(ctx.link(&["$skiptoken"], &add)),
        );
    }
    let reply = Reply::json(200, Value::Object(body));
    match prefer {
        Some(n) => reply.header("Preference-Applied", format!("odata.maxpagesize={n}")),
        None => reply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_roundtrip() {
        let c = cookie(2, 6);
        assert!(c.starts_with("%3Ccookie%20pagenumber%3D%222%22"), "{c}");
        let decoded: String = url::form_urlencoded::parse(format!("t={c}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert_eq!(parse_cookie(&decoded), Some(6));
        assert_eq!(parse_cookie("<cookie pagenumber=\"2\" />"), None);
    }
}
