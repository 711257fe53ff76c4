//! The OpenAPI 3 document served at `/api/v1/openapi.json`, derived from the handlers'
//! `#[utoipa::path]` attributes and the body types in [`schemas`]: the routes and their
//! description live together, and a route without its attribute fails the test that compares
//! the router with the document.

mod schemas;

use std::sync::LazyLock;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

pub use schemas::*;

/// Every documented operation and the shared schemas, assembled by utoipa.
#[derive(OpenApi)]
#[openapi(
    servers((url = "/")),
    paths(
        super::listings::create,
        super::listings::read,
        super::listings::replace,
        super::listings::remove,
        super::freshness::confirm_listing,
        super::freshness::run_sweep,
        super::disclosures::create,
        super::search::search,
        super::meta::provinces,
        super::meta::fields_of_science,
        super::meta::health,
        super::changes::changes,
        super::changes::snapshot,
        super::duplicates::duplicates,
        super::schema::listing_schema,
        super::schema::template,
        super::meta::openapi,
        super::tokens::create,
        super::tokens::revoke,
        super::leads::interest,
        super::leads::leads,
        super::deals::list,
        super::deals::propose,
        super::deals::move_stage,
        super::deals::history,
        super::reports::province,
        super::reports::national,
        super::matches::need_matches,
        super::matches::listing_matches,
        super::matches::ad_hoc,
        super::backup::backup,
        super::meta::guarded_metrics,
        super::signup::create,
        super::signup::request,
        super::signup::reset,
        super::users::create,
        super::users::set_password,
        super::outbox::list,
        super::orgs::list,
        super::orgs::create,
        super::orgs::show,
        super::orgs::edit,
        super::orgs::members,
        super::orgs::invite,
        super::orgs::request,
        super::orgs::answer,
        super::orgs::verify,
        super::orgs::revoke,
        super::orgs::merge,
        super::orgs::invitation,
        super::orgs::accept,
        super::orgs::me,
        super::leads::reply,
        super::orgs::remove_member,
        super::orgs::make_admin,
        super::orgs::change_email,
        super::statistics::statistics,
        super::statistics::comparables,
        super::saved_searches::create,
        super::saved_searches::list,
        super::saved_searches::remove,
        super::saved_searches::notifications,
        super::saved_searches::mark_read
    ),
    components(
        schemas(
            ListingInput,
            Listing,
            Error,
            FacetValue,
            SearchResponse,
            TokenRequest,
            IssuedToken,
            Lead,
            DealRequest,
            StageRequest,
            Deal,
            DealEvent,
            Report,
            AdHocNeed,
            MatchResponse,
            SignUpRequest,
            User,
            Mail,
            Organisation,
            OrgInput,
            Member,
            Statistics,
            SavedSearchRequest,
            SavedSearch,
            Notification,
            Disclosure,
            DisclosureRequest,
            DisclosuresResponse,
            SweepRequest,
            SweepResponse
        ),
        responses(ErrorResponse)
    ),
    modifiers(&Bearer)
)]
struct ApiDoc;

/// The document as served, built once.
pub fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        let mut doc = ApiDoc::openapi();
        // Set here rather than from Cargo.toml, which would add the crate's name and licence.
        doc.info = InfoBuilder::new()
            .title("techmatch API")
            .version("1")
            .description(Some(
                "Technology-transfer matchmaking: research outputs, patents and technology needs of Vietnam's provinces.",
            ))
            .build();
        // utoipa tags each operation with its handler's module path, an internal name.
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.tags = None;
            }
        }
        doc.to_json().unwrap_or_else(|e| {
            // Serialising plain data with string keys cannot fail; answer valid JSON if it did.
            tracing::error!(error = %e, "the OpenAPI document did not serialise");
            "{}".to_string()
        })
    });
    &DOCUMENT
}

/// The answer of every refusal: our JSON error body.
pub struct ErrorResponse;

impl<'s> utoipa::ToResponse<'s> for ErrorResponse {
    fn response() -> (&'s str, RefOr<Response>) {
        let content = ContentBuilder::new()
            .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
            .build();
        (
            "Error",
            ResponseBuilder::new()
                .description("An error")
                .content("application/json", content)
                .build()
                .into(),
        )
    }
}

/// Declares the bearer token that operations with `security(("bearer" = []))` take.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every `.route("path", get(..).post(..))` of the API's modules, as (method, path).
    fn routes_in_source() -> BTreeSet<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
        let mut routes = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("src/api") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("source");
            for call in source.split(".route(\"").skip(1) {
                let (route, rest) = call.split_once('"').expect("a route's path");
                // The methods chained inside this call: up to its closing parenthesis.
                let mut depth = 1;
                let end = rest
                    .char_indices()
                    .find(|&(_, c)| {
                        depth += match c {
                            '(' => 1,
                            ')' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map_or(rest.len(), |(i, _)| i);
                let rest = &rest[..end];
                for method in ["get", "post", "put", "delete", "patch"] {
                    let chained = format!(".{method}(");
                    let first = format!(", {method}(");
                    if rest.contains(&chained) || rest.contains(&first) {
                        routes.insert((method.to_string(), route.to_string()));
                    }
                }
            }
        }
        routes
    }

    #[test]
    fn every_route_of_the_api_is_in_the_document() {
        let doc: serde_json::Value =
            serde_json::from_str(super::document()).expect("the document is JSON");
        let routes = routes_in_source();
        assert!(routes.len() > 50, "the routes were not found: {routes:?}");
        for (method, route) in routes {
            // Links mailed to people (an Atom feed, an unsubscribe page), not the JSON API.
            if route.starts_with("/feeds/") || route.starts_with("/alerts/") {
                continue;
            }
            let documented = if route == "/metrics" {
                route.clone()
            } else {
                format!("/api/v1{route}")
            };
            assert!(
                doc["paths"][&documented][&method].is_object(),
                "{method} {documented} is routed but not in the OpenAPI document"
            );
        }
    }
}
