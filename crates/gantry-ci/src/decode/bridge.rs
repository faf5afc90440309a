//! A trigger job's `trigger:` (a child or multi-project pipeline) and a job's `id_tokens:`.

use super::*;

/// `trigger:`: a project's path, or a hash with `project` (and `branch`) or `include`, and
/// `strategy`, `forward`.
pub(super) fn trigger(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Trigger> {
    let mut trigger = Trigger {
        project: None,
        branch: None,
        include: None,
        depend: false,
        forward_yaml_variables: true,
        forward_pipeline_variables: false,
    };
    if is_scalar(node) {
        trigger.project = Some(node.as_str()?.to_owned());
        return Some(trigger);
    }
    if node.as_map().is_none() {
        d.push(node.at.clone(), format!("`{context}` should be a project's path or a hash, not {}", node.kind()));
        return None;
    }
    check_keys(node, context, &["project", "branch", "include", "strategy", "forward"], d);
    trigger.project = node.keyword("project").and_then(|n| string(n, &what(context, "project"), d));
    trigger.branch = node.keyword("branch").and_then(|n| string(n, &what(context, "branch"), d));
    if let Some(include) = node.keyword("include") {
        let entries = match &include.value {
            Value::Seq(items) => items.len(),
            Value::Map(_) => 1,
            _ if is_scalar(include) => 1,
            _ => {
                d.push(
                    include.at.clone(),
                    format!("`{context}:include` should be a path, a hash or a list, not {}", include.kind()),
                );
                return None;
            }
        };
        // GitLab's limit for a child pipeline's includes.
        if entries > 3 {
            d.push(include.at.clone(), format!("`{context}:include` lists {entries} files; the limit is 3"));
        }
        trigger.include = Some(crate::yaml::to_flow_text(include));
    }
    match (&trigger.project, &trigger.include) {
        (Some(_), Some(_)) => {
            d.push(node.at.clone(), format!("`{context}` takes either `project` or `include`, not both"));
            return None;
        }
        (None, None) => {
            d.push(
                node.at.clone(),
                format!(
                    "`{context}` needs a `project` (another project's pipeline) or an `include` (a child pipeline)"
                ),
            );
            return None;
        }
        (None, Some(_)) if trigger.branch.is_some() => {
            d.push(node.at.clone(), format!("`{context}:branch` is only for a `project` trigger (a child pipeline runs on this pipeline's commit)"));
        }
        _ => {}
    }
    trigger.depend = node
        .keyword("strategy")
        .and_then(|n| choice(n, &what(context, "strategy"), &["depend", "mirror"], d))
        .is_some();
    if let Some(forward) = node.keyword("forward") {
        let context = what(context, "forward");
        if forward.as_map().is_none() {
            d.push(forward.at.clone(), format!("`{context}` should be a hash, not {}", forward.kind()));
        } else {
            check_keys(forward, &context, &["yaml_variables", "pipeline_variables"], d);
            if let Some(flag) =
                forward.keyword("yaml_variables").and_then(|n| boolean(n, &what(&context, "yaml_variables"), d))
            {
                trigger.forward_yaml_variables = flag;
            }
            if let Some(flag) =
                forward.keyword("pipeline_variables").and_then(|n| boolean(n, &what(&context, "pipeline_variables"), d))
            {
                trigger.forward_pipeline_variables = flag;
            }
        }
    }
    Some(trigger)
}

/// `id_tokens:`: a hash of variable names, each with the `aud` (a string or a list) its token
/// is for.
pub(super) fn id_tokens(node: &Node, context: &str, d: &mut Diagnostics) -> Vec<IdToken> {
    let Some(entries) = node.as_map() else {
        d.push(node.at.clone(), format!("`{context}` should be a hash of variable names, not {}", node.kind()));
        return Vec::new();
    };
    let mut tokens = Vec::new();
    for (name, token) in entries {
        let context = what(context, name);
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
            d.push(name.at.clone(), format!("`{context}`: `{}` is not a valid variable name", &**name));
            continue;
        }
        if token.as_map().is_none() {
            d.push(token.at.clone(), format!("`{context}` should be a hash with `aud`, not {}", token.kind()));
            continue;
        }
        check_keys(token, &context, &["aud"], d);
        let Some(aud) = token.keyword("aud").and_then(|n| string_list(n, &what(&context, "aud"), d)) else {
            if token.keyword("aud").is_none() {
                d.push(token.at.clone(), format!("`{context}` needs `aud`, the audience the token is for"));
            }
            continue;
        };
        if aud.is_empty() {
            d.push(token.at.clone(), format!("`{context}:aud` names no audience"));
            continue;
        }
        tokens.push(IdToken { name: name.name.clone(), aud });
    }
    tokens
}
