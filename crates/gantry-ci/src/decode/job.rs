//! One job's keywords, with `default:` applied where the job does not set them.

use super::*;

pub(super) fn job(
    name: &Key,
    node: &Node,
    defaults: &[(Key, Node)],
    stages: Option<&[String]>,
    d: &mut Diagnostics,
) -> Option<Job> {
    let context = &format!("jobs:{}", &**name);
    for (key, value) in node.as_map().unwrap_or_default() {
        if UNSUPPORTED_JOB_KEYWORDS.contains(&&**key) {
            // Set to null, a keyword Gantry does not run is not set, and asks for nothing.
            if !value.is_null() {
                d.push(key.at.clone(), format!("`{context}`: `{}` is not supported by Gantry yet", &**key));
            }
        } else if !JOB_KEYWORDS.contains(&&**key) {
            d.push(key.at.clone(), format!("`{context}`: unknown keyword `{}`", &**key));
        }
    }
    let inherit_default = match node.keyword("inherit") {
        Some(inherit) => {
            check_keys(inherit, &what(context, "inherit"), &["default", "variables"], d);
            inherit
                .keyword("default")
                .map(|n| inherit_setting(n, &what(context, "inherit:default"), d))
                .unwrap_or(Inherit::All)
        }
        None => Inherit::All,
    };
    let inherit_variables = node
        .keyword("inherit")
        .and_then(|i| i.keyword("variables"))
        .map(|n| inherit_setting(n, &what(context, "inherit:variables"), d))
        .unwrap_or(Inherit::All);
    // The job's own keyword, or the default one it inherits.
    let get = |key: &str| -> Option<&Node> {
        node.keyword(key).or_else(|| {
            inherit_default
                .allows(key)
                .then(|| defaults.iter().rev().find(|(k, _)| **k == *key).map(|(_, v)| v))
                .flatten()
        })
    };
    let scripts = |key: &str, d: &mut Diagnostics| {
        get(key).and_then(|n| string_list(n, &what(context, key), d)).unwrap_or_default()
    };
    let trigger = node.keyword("trigger").and_then(|n| super::bridge::trigger(n, &what(context, "trigger"), d));
    let script = match node.get("script") {
        // A trigger job runs no script.
        None if node.keyword("trigger").is_some() => Vec::new(),
        Some(n) if node.keyword("trigger").is_some() => {
            d.push(
                n.at.clone(),
                format!("`{context}`: a job with `trigger` starts a pipeline and cannot have a `script`"),
            );
            Vec::new()
        }
        None => {
            d.push(name.at.clone(), format!("`{context}` needs a `script`"));
            Vec::new()
        }
        // GitLab's words: its `script` must not be blank (null, an empty string or list).
        Some(n) if is_blank(n) => {
            d.push(n.at.clone(), format!("{context} script can't be blank"));
            Vec::new()
        }
        Some(n) => string_list(n, &what(context, "script"), d).unwrap_or_default(),
    };
    let stage = match node.keyword("stage") {
        Some(n) => string(n, &what(context, "stage"), d).unwrap_or_else(|| "test".into()),
        None => "test".into(),
    };
    if let Some(stages) = stages
        && !stages.contains(&stage)
    {
        let at = node.keyword("stage").map(|n| n.at.clone()).unwrap_or(name.at.clone());
        d.push(at, format!("`{context}`: the stage `{stage}` is not in `stages` ({})", stages.join(", ")));
    }
    let when = node.keyword("when").and_then(|n| {
        choice(n, &what(context, "when"), &["on_success", "on_failure", "always", "manual", "delayed", "never"], d)
            .and_then(|w| When::parse(&w))
    });
    let start_in = node.keyword("start_in").and_then(|n| duration(n, &what(context, "start_in"), d));
    if when == Some(When::Delayed) && start_in.is_none() {
        d.push(name.at.clone(), format!("`{context}`: `when: delayed` needs `start_in`"));
    }
    if start_in.is_some_and(|s| s > 7 * 86_400) {
        d.push(node.keyword("start_in").unwrap().at.clone(), format!("`{context}:start_in` is at most one week"));
    }
    if node.keyword("rules").is_some() && (node.keyword("only").is_some() || node.keyword("except").is_some()) {
        d.push(name.at.clone(), format!("`{context}`: `rules` cannot be used with `only` or `except`"));
    }
    let coverage = node.keyword("coverage").and_then(|n| {
        let text = string(n, &what(context, "coverage"), d)?;
        let body = text.strip_prefix('/').and_then(|t| t.strip_suffix('/'));
        match body.map(|b| regex::Regex::new(b).map_err(|e| e.to_string())) {
            Some(Ok(_)) => Some(body.unwrap().to_owned()),
            Some(Err(error)) => {
                d.push(
                    n.at.clone(),
                    format!("`{context}:coverage` is not a valid pattern: {}", error.lines().last().unwrap_or("")),
                );
                None
            }
            None => {
                d.push(n.at.clone(), format!("`{context}:coverage` is a pattern written /like this/"));
                None
            }
        }
    });
    let needs = node.keyword("needs").and_then(|n| super::needs::needs(n, &what(context, "needs"), d));
    Some(Job {
        name: name.name.clone(),
        at: name.at.clone(),
        stage,
        image: get("image").and_then(|n| image(n, &what(context, "image"), d)),
        services: get("services").map(|n| services(n, &what(context, "services"), d)).unwrap_or_default(),
        before_script: scripts("before_script", d),
        script,
        after_script: scripts("after_script", d),
        variables: node
            .keyword("variables")
            .map(|n| variables(n, &what(context, "variables"), false, d))
            .unwrap_or_default(),
        inherit_variables,
        rules: node.keyword("rules").map(|n| rules(n, &what(context, "rules"), false, d)),
        only: match node.keyword("only") {
            Some(n) => ref_filter(n, &what(context, "only"), d),
            // `rules:` set to null takes away the default `only` (branches and tags), as in
            // GitLab, and the job runs in every pipeline.
            None if node.get("rules").is_some_and(Node::is_null) => Some(RefFilter::default()),
            None => None,
        },
        except: node.keyword("except").and_then(|n| ref_filter(n, &what(context, "except"), d)),
        when,
        start_in,
        allow_failure: node.keyword("allow_failure").and_then(|n| allow_failure(n, &what(context, "allow_failure"), d)),
        needs,
        dependencies: node.keyword("dependencies").and_then(|n| match n.value {
            Value::Seq(_) => string_list(n, &what(context, "dependencies"), d),
            _ => {
                d.push(n.at.clone(), format!("`{context}:dependencies` should be a list of job names"));
                None
            }
        }),
        retry: get("retry").map(|n| retry(n, &what(context, "retry"), d)).unwrap_or_default(),
        timeout: get("timeout").and_then(|n| duration(n, &what(context, "timeout"), d)),
        parallel: node.keyword("parallel").and_then(|n| parallel(n, &what(context, "parallel"), d)),
        artifacts: get("artifacts").and_then(|n| artifacts(n, &what(context, "artifacts"), d)),
        cache: get("cache").map(|n| caches(n, &what(context, "cache"), d)).unwrap_or_default(),
        coverage,
        environment: node.keyword("environment").and_then(|n| environment(n, &what(context, "environment"), d)),
        resource_group: node.keyword("resource_group").and_then(|n| string(n, &what(context, "resource_group"), d)),
        interruptible: get("interruptible")
            .and_then(|n| boolean(n, &what(context, "interruptible"), d))
            .unwrap_or(false),
        tags: get("tags")
            .and_then(|n| match n.value {
                Value::Seq(_) => string_list(n, &what(context, "tags"), d),
                _ => {
                    d.push(n.at.clone(), format!("`{context}:tags` should be a list of strings"));
                    None
                }
            })
            .unwrap_or_default(),
        trigger,
        id_tokens: get("id_tokens")
            .map(|n| super::bridge::id_tokens(n, &what(context, "id_tokens"), d))
            .unwrap_or_default(),
    })
}

fn inherit_setting(node: &Node, context: &str, d: &mut Diagnostics) -> Inherit {
    match &node.value {
        Value::Seq(_) => Inherit::Only(string_list(node, context, d).unwrap_or_default()),
        _ => match boolean(node, context, d) {
            Some(false) => Inherit::None,
            _ => Inherit::All,
        },
    }
}

fn command(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Vec<String>> {
    string_list(node, context, d)
}

fn image(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Image> {
    if is_scalar(node) {
        return Some(Image { name: node.as_str()?.to_owned(), entrypoint: None, pull_policy: None });
    }
    if node.as_map().is_none() {
        d.push(node.at.clone(), format!("`{context}` should be an image name or a hash, not {}", node.kind()));
        return None;
    }
    check_keys(node, context, &["name", "entrypoint", "pull_policy", "docker"], d);
    let Some(name) = node.keyword("name").and_then(|n| string(n, &what(context, "name"), d)) else {
        d.push(node.at.clone(), format!("`{context}` needs a `name`"));
        return None;
    };
    Some(Image {
        name,
        entrypoint: node.keyword("entrypoint").and_then(|n| command(n, &what(context, "entrypoint"), d)),
        pull_policy: node.keyword("pull_policy").and_then(|n| string_list(n, &what(context, "pull_policy"), d)),
    })
}

fn services(node: &Node, context: &str, d: &mut Diagnostics) -> Vec<Service> {
    let Some(items) = flattened(node) else {
        d.push(node.at.clone(), format!("`{context}` should be a list, not {}", node.kind()));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if is_scalar(item) {
            out.push(Service {
                name: item.as_str().unwrap_or_default().to_owned(),
                alias: None,
                entrypoint: None,
                command: None,
                variables: Vec::new(),
            });
            continue;
        }
        if item.as_map().is_none() {
            d.push(item.at.clone(), format!("each of `{context}` should be an image name or a hash"));
            continue;
        }
        check_keys(item, context, &["name", "alias", "entrypoint", "command", "variables", "pull_policy", "docker"], d);
        let Some(name) = item.keyword("name").and_then(|n| string(n, &what(context, "name"), d)) else {
            d.push(item.at.clone(), format!("each of `{context}` needs a `name`"));
            continue;
        };
        let alias = item.keyword("alias").and_then(|n| string(n, &what(context, "alias"), d));
        if let Some(alias) = &alias
            && !alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ',')
        {
            d.push(
                item.keyword("alias").unwrap().at.clone(),
                format!("`{context}:alias` `{alias}` is not a valid host name"),
            );
        }
        out.push(Service {
            name,
            alias,
            entrypoint: item.keyword("entrypoint").and_then(|n| command(n, &what(context, "entrypoint"), d)),
            command: item.keyword("command").and_then(|n| command(n, &what(context, "command"), d)),
            variables: item
                .keyword("variables")
                .map(|n| variables(n, &what(context, "variables"), false, d))
                .unwrap_or_default(),
        });
    }
    out
}

fn retry(node: &Node, context: &str, d: &mut Diagnostics) -> Retry {
    if node.as_map().is_none() {
        return Retry { max: integer(node, context, 0, 2, d).unwrap_or(0) as u8, ..Retry::default() };
    }
    check_keys(node, context, &["max", "when", "exit_codes"], d);
    let when = node.keyword("when").and_then(|n| string_list(n, &what(context, "when"), d)).unwrap_or_default();
    for reason in &when {
        if !RETRY_REASONS.contains(&reason.as_str()) {
            d.push(
                node.keyword("when").unwrap().at.clone(),
                format!("`{context}:when`: unknown failure reason `{reason}`"),
            );
        }
    }
    Retry {
        max: node.keyword("max").and_then(|n| integer(n, &what(context, "max"), 0, 2, d)).unwrap_or(0) as u8,
        when,
        exit_codes: node
            .keyword("exit_codes")
            .map(|n| exit_codes(n, &what(context, "exit_codes"), d))
            .unwrap_or_default(),
    }
}

fn parallel(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Parallel> {
    if node.as_map().is_none() {
        return integer(node, context, 1, MAX_PARALLEL as i64, d).map(|n| Parallel::Count(n as u32));
    }
    check_keys(node, context, &["matrix"], d);
    let Some(m) = node.keyword("matrix") else {
        d.push(node.at.clone(), format!("`{context}` is a number or a hash with `matrix`"));
        return None;
    };
    let entries = matrix(m, &what(context, "matrix"), d);
    let total: u64 = entries.iter().map(|entry| entry.iter().map(|(_, v)| v.len() as u64).product::<u64>()).sum();
    if total > MAX_PARALLEL {
        d.push(m.at.clone(), format!("`{context}:matrix` makes {total} jobs; the limit is {MAX_PARALLEL}"));
        return None;
    }
    Some(Parallel::Matrix(entries))
}

/// `parallel:matrix`: a list of hashes of variable names to a value or a list of values.
pub(super) fn matrix(node: &Node, context: &str, d: &mut Diagnostics) -> Vec<Vec<(String, Vec<String>)>> {
    let Value::Seq(items) = &node.value else {
        d.push(node.at.clone(), format!("`{context}` should be a list of hashes, not {}", node.kind()));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(entries) = item.as_map() else {
            d.push(item.at.clone(), format!("each of `{context}` should be a hash of variables"));
            continue;
        };
        let mut entry = Vec::new();
        for (key, value) in entries {
            if let Some(values) = string_list(value, &what(context, key), d) {
                if values.is_empty() {
                    d.push(value.at.clone(), format!("`{context}:{}` lists no values", &**key));
                }
                entry.push((key.name.clone(), values));
            }
        }
        out.push(entry);
    }
    out
}

fn when_of(node: Option<&Node>, context: &str, d: &mut Diagnostics) -> When {
    node.and_then(|n| choice(n, context, &["on_success", "on_failure", "always"], d))
        .and_then(|w| When::parse(&w))
        .unwrap_or_default()
}

fn artifacts(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Artifacts> {
    if node.as_map().is_none() {
        d.push(node.at.clone(), format!("`{context}` should be a hash, not {}", node.kind()));
        return None;
    }
    check_keys(
        node,
        context,
        &["paths", "exclude", "untracked", "when", "expire_in", "name", "expose_as", "reports", "public", "access"],
        d,
    );
    let list = |key: &str, d: &mut Diagnostics| {
        node.keyword(key).and_then(|n| string_list(n, &what(context, key), d)).unwrap_or_default()
    };
    let expire_in = node.keyword("expire_in").and_then(|n| {
        let text = string(n, &what(context, "expire_in"), d)?;
        if text.trim() == "never" {
            return Some(ExpireIn::Never);
        }
        duration(n, &what(context, "expire_in"), d).map(ExpireIn::Seconds)
    });
    let mut reports = Reports::default();
    if let Some(r) = node.keyword("reports") {
        let here = what(context, "reports");
        let mut known = vec!["junit", "dotenv", "coverage_report"];
        known.extend_from_slice(crate::keywords::KEPT_REPORT_TYPES);
        check_keys(r, &here, &known, d);
        for (key, value) in r.as_map().into_iter().flatten() {
            let kind: &str = key;
            if !crate::keywords::KEPT_REPORT_TYPES.contains(&kind) || value.is_null() {
                continue;
            }
            if let Some(paths) = string_list(value, &what(&here, kind), d) {
                d.warn(
                    key.at.clone(),
                    format!(
                        "`{here}:{kind}`: the file is kept as an artifact of the job (type {kind}); \
                         Gantry does not show {kind} reports yet"
                    ),
                );
                reports.kept.push((kind.to_owned(), paths));
            }
        }
        reports.junit = r.keyword("junit").and_then(|n| string_list(n, &what(&here, "junit"), d)).unwrap_or_default();
        reports.dotenv =
            r.keyword("dotenv").and_then(|n| string_list(n, &what(&here, "dotenv"), d)).unwrap_or_default();
        if let Some(c) = r.keyword("coverage_report") {
            let here = what(&here, "coverage_report");
            check_keys(c, &here, &["coverage_format", "path"], d);
            let format = c
                .keyword("coverage_format")
                .and_then(|n| choice(n, &what(&here, "coverage_format"), &["cobertura", "jacoco"], d));
            let path = c.keyword("path").and_then(|n| string(n, &what(&here, "path"), d));
            match (format, path) {
                (Some(format), Some(path)) => reports.coverage_report = Some((format, path)),
                _ => d.push(c.at.clone(), format!("`{here}` needs `coverage_format` and `path`")),
            }
        }
    }
    let expose_as = node.keyword("expose_as").and_then(|n| string(n, &what(context, "expose_as"), d));
    if expose_as.is_some() && node.keyword("paths").is_none() {
        d.push(node.at.clone(), format!("`{context}:expose_as` needs `paths`"));
    }
    Some(Artifacts {
        paths: list("paths", d),
        exclude: list("exclude", d),
        untracked: node.keyword("untracked").and_then(|n| boolean(n, &what(context, "untracked"), d)).unwrap_or(false),
        when: when_of(node.keyword("when"), &what(context, "when"), d),
        expire_in,
        name: node.keyword("name").and_then(|n| string(n, &what(context, "name"), d)),
        expose_as,
        reports,
    })
}

fn caches(node: &Node, context: &str, d: &mut Diagnostics) -> Vec<Cache> {
    // GitLab counts the caches as written, before lists nested in the list are flattened.
    if let Value::Seq(written) = &node.value
        && written.len() > 4
    {
        d.push(node.at.clone(), format!("`{context}` lists {} caches; the limit is 4", written.len()));
    }
    let items = flattened(node).unwrap_or_else(|| vec![node]);
    let mut out = Vec::new();
    for item in items {
        if item.as_map().is_none() {
            d.push(item.at.clone(), format!("`{context}` should be a hash or a list of hashes, not {}", item.kind()));
            continue;
        }
        check_keys(item, context, &["key", "paths", "untracked", "policy", "when", "fallback_keys", "unprotect"], d);
        let key = match item.keyword("key") {
            None => CacheKey::Text("default".into()),
            Some(k) if k.as_map().is_some() => {
                let here = what(context, "key");
                check_keys(k, &here, &["files", "prefix"], d);
                let files =
                    k.keyword("files").and_then(|n| string_list(n, &what(&here, "files"), d)).unwrap_or_default();
                if files.is_empty() || files.len() > 2 {
                    d.push(k.at.clone(), format!("`{here}:files` names one or two files"));
                }
                CacheKey::Files {
                    files,
                    prefix: k.keyword("prefix").and_then(|n| string(n, &what(&here, "prefix"), d)),
                }
            }
            Some(k) => {
                let text = string(k, &what(context, "key"), d).unwrap_or_default();
                if text.contains('/') || text == "." || text == ".." || text.contains("%2F") || text.contains("%2f") {
                    d.push(k.at.clone(), format!("`{context}:key` cannot contain `/` or be `.` or `..`"));
                }
                CacheKey::Text(text)
            }
        };
        let fallback_keys = item
            .keyword("fallback_keys")
            .and_then(|n| string_list(n, &what(context, "fallback_keys"), d))
            .unwrap_or_default();
        if fallback_keys.len() > 5 {
            d.push(item.at.clone(), format!("`{context}:fallback_keys` lists at most 5 keys"));
        }
        out.push(Cache {
            key,
            paths: item.keyword("paths").and_then(|n| string_list(n, &what(context, "paths"), d)).unwrap_or_default(),
            untracked: item
                .keyword("untracked")
                .and_then(|n| boolean(n, &what(context, "untracked"), d))
                .unwrap_or(false),
            policy: item
                .keyword("policy")
                .and_then(|n| choice(n, &what(context, "policy"), &["pull-push", "pull", "push"], d))
                .unwrap_or_else(|| "pull-push".into()),
            when: when_of(item.keyword("when"), &what(context, "when"), d),
            fallback_keys,
        });
    }
    out
}

fn environment(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Environment> {
    if is_scalar(node) {
        return Some(Environment {
            name: node.as_str()?.to_owned(),
            url: None,
            action: "start".into(),
            on_stop: None,
            auto_stop_in: None,
            deployment_tier: None,
        });
    }
    if node.as_map().is_none() {
        d.push(node.at.clone(), format!("`{context}` should be a name or a hash, not {}", node.kind()));
        return None;
    }
    check_keys(
        node,
        context,
        &["name", "url", "action", "on_stop", "auto_stop_in", "deployment_tier", "kubernetes"],
        d,
    );
    let Some(name) = node.keyword("name").and_then(|n| string(n, &what(context, "name"), d)) else {
        d.push(node.at.clone(), format!("`{context}` needs a `name`"));
        return None;
    };
    let auto_stop_in = node.keyword("auto_stop_in").and_then(|n| string(n, &what(context, "auto_stop_in"), d));
    // Variables in it are expanded when the job deploys (`payload::job_deployment`), so only a
    // value without any can be checked here. GitLab accepts any string and ignores one that is
    // not a duration, so such a value is a warning.
    if let Some(text) = &auto_stop_in
        && text.trim() != "never"
        && crate::vars::references(text).is_empty()
        && parse_duration(text).is_none()
    {
        d.warn(
            node.keyword("auto_stop_in").unwrap().at.clone(),
            format!(
                "`{context}:auto_stop_in` should be a duration like `2 days` or `never`; `{text}` is not one, and the environment will not stop by itself"
            ),
        );
    }
    Some(Environment {
        name,
        url: node.keyword("url").and_then(|n| string(n, &what(context, "url"), d)),
        action: node
            .keyword("action")
            .and_then(|n| choice(n, &what(context, "action"), &["start", "prepare", "stop", "verify", "access"], d))
            .unwrap_or_else(|| "start".into()),
        on_stop: node.keyword("on_stop").and_then(|n| string(n, &what(context, "on_stop"), d)),
        auto_stop_in,
        deployment_tier: node.keyword("deployment_tier").and_then(|n| {
            choice(
                n,
                &what(context, "deployment_tier"),
                &["production", "staging", "testing", "development", "other"],
                d,
            )
        }),
    })
}
