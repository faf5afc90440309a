//! What each route declares it requires (the route table's `Requires`) against what the
//! authorisation sweep expects of it (`sweep::need`, its own table, written apart on purpose):
//! a declaration that drifts from the rules the sweep proves fails here, before anyone reads
//! it in the API document.

use gantry_core::policy::ProjectAction;
use gantry_web::{Requires, RouteInfo, RouteScope, route_table};

use crate::sweep::{Need, need};

/// The declaration in the sweep's terms: a role is the lowest the action needs.
fn declared(route: &RouteInfo) -> Need {
    match (route.scope, route.requires) {
        // Git's smart HTTP asks anonymous callers for credentials instead of saying "not found".
        (RouteScope::Git, Requires::Project(action)) => Need::SignedInRole(action.required_level()),
        (_, Requires::Anyone) => Need::Anyone,
        (_, Requires::SignedIn) => Need::SignedIn,
        (_, Requires::Admin) => Need::Admin,
        (_, Requires::AdminOrForbidden) => Need::AdminForbidden,
        (_, Requires::TokenOwner) => Need::TokenOwner,
        (_, Requires::Project(action)) => Need::Role(action.required_level()),
        (_, Requires::Group(action)) => Need::Role(action.required_level()),
        (_, Requires::Parent(action)) => Need::SignedInRole(action.required_level()),
        // The sweep creates a project runner of its fixture's project.
        (_, Requires::NewRunner) => Need::SignedInRole(ProjectAction::ManageCi.required_level()),
        (_, Requires::RunnerManager) => Need::RunnerManager,
        (_, Requires::ProtectedRef) => Need::ProtectedMain,
        (_, Requires::ScheduleOwner) => Need::ScheduleOwner,
        (_, Requires::NoteAuthor) => Need::NoteAuthor,
        (_, Requires::AwardOwner) => Need::AwardOwner,
        (_, Requires::TodoOwner) => Need::TodoOwner,
        (_, Requires::MailLink) => Need::MailLink,
        (_, Requires::RunnerToken | Requires::JobToken) => Need::RunnerToken,
        (_, Requires::TriggerToken) => Need::TriggerToken,
    }
}

#[test]
fn every_route_declares_what_the_sweep_expects() {
    let disagreements: Vec<String> = route_table()
        .iter()
        .filter(|route| declared(route) != need(route))
        .map(|route| {
            format!(
                "{} {} ({:?}) declares {:?}, the sweep expects {:?}",
                route.method,
                route.path,
                route.scope,
                route.requires,
                need(route)
            )
        })
        .collect();
    assert!(disagreements.is_empty(), "{} routes disagree:\n{}", disagreements.len(), disagreements.join("\n"));
}
