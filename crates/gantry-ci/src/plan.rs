//! A [`Config`] and the facts of one pipeline (its ref, source, variables, changed files) → the
//! jobs that pipeline runs: `workflow:rules`, then each job's `rules` or `only/except`, then
//! `parallel` expanded, then `needs` and `dependencies` checked against the jobs that remain.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{Diagnostics, Location};
use crate::keywords::*;

/// What a pipeline is being created for.
pub struct Facts<'a> {
    /// Every variable the pipeline sees, later entries winning: predefined ones (`CI_*`), then
    /// instance, group and project variables, then those given for this pipeline.
    pub variables: &'a [(String, String)],
    /// Paths changed by the push, or None when unknown (a new branch, a tag, a schedule…), in
    /// which case `changes` holds, as in GitLab.
    pub changed_paths: Option<&'a [String]>,
    /// Every file path of the commit, for `exists`.
    pub files: &'a [String],
}

impl Facts<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.variables.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// The pipeline to create.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Stages that hold at least one job, in order.
    pub stages: Vec<String>,
    pub jobs: Vec<PlannedJob>,
}

/// One job of the pipeline, ready to store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedJob {
    pub name: String,
    pub stage: String,
    pub when: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_in: Option<u64>,
    pub allow_failure: AllowFailure,
    /// None: the job waits for every job of earlier stages. Some: only for these jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<Need>>,
    /// Jobs whose artifacts the job downloads.
    pub dependencies: Vec<String>,
    /// Jobs of other pipelines whose artifacts the job downloads (`needs:pipeline`,
    /// `needs:project`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elsewhere: Vec<Need>,
    /// The job's own variables: `parallel` values, rule variables, job variables and the
    /// inherited file variables (expanded when the job starts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    pub definition: Definition,
}

/// What the runner needs to run the job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_script: Vec<String>,
    pub script: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_script: Vec<String>,
    #[serde(default)]
    pub retry: Retry,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Artifacts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<Cache>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    #[serde(default)]
    pub interruptible: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `parallel`: this instance's number (from 1) and how many there are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<(u32, u32)>,
    /// The downstream pipeline a trigger job starts; such a job never goes to a runner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_tokens: Vec<IdToken>,
}

/// Why no pipeline is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPipeline {
    /// `workflow:rules` matched none or said `never`.
    Workflow,
    /// No job's rules let it run (or only `.pre`/`.post` jobs would).
    NoJobs,
}

/// Plans a pipeline. Errors are about the configuration as these facts see it (a `needs` of a
/// job that is not in this pipeline, say).
pub fn plan(config: &Config, facts: &Facts) -> Result<Result<Plan, NoPipeline>, Diagnostics> {
    let lookup = |name: &str| facts.lookup(name);
    let mut workflow_variables = Vec::new();
    if let Some(rules) = &config.workflow.rules {
        match first_match(rules, facts) {
            Some(rule) if rule.when != Some(When::Never) => workflow_variables = rule.variables.clone(),
            _ => return Ok(Err(NoPipeline::Workflow)),
        }
    }
    let mut d = Diagnostics::default();
    let mut jobs: Vec<PlannedJob> = Vec::new();
    let mut positions: HashMap<String, Location> = HashMap::new();
    let mut instances_of: Instances = HashMap::new();
    let mut written: HashMap<String, &Job> = HashMap::new();
    for job in &config.jobs {
        let Some((when, start_in, allow_failure, rule_variables)) = decide(job, facts) else { continue };
        let mut variables = Vec::new();
        for variable in config.variables.iter().chain(&workflow_variables) {
            if job.inherit_variables.allows(&variable.key) {
                set(&mut variables, variable.clone());
            }
        }
        for variable in job.variables.iter().chain(&rule_variables) {
            set(&mut variables, variable.clone());
        }
        for (index, total, matrix) in instances(job) {
            let name = match (&job.parallel, &matrix) {
                (Some(Parallel::Matrix(_)), values) => {
                    format!("{}: [{}]", job.name, values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", "))
                }
                (Some(Parallel::Count(_)), _) => format!("{} {index}/{total}", job.name),
                (None, _) => job.name.clone(),
            };
            let mut variables = variables.clone();
            for (key, value) in &matrix {
                set(
                    &mut variables,
                    Variable {
                        key: key.clone(),
                        value: value.clone(),
                        description: None,
                        expand: true,
                        options: Vec::new(),
                    },
                );
            }
            let resource_group = job
                .resource_group
                .as_ref()
                .map(|group| crate::vars::expand(group, &|n| lookup_in(&variables, n).or_else(|| lookup(n)), false));
            positions.insert(name.clone(), job.at.clone());
            instances_of.entry(job.name.clone()).or_default().push((name.clone(), matrix.clone()));
            written.insert(name.clone(), job);
            jobs.push(PlannedJob {
                name,
                stage: job.stage.clone(),
                when,
                start_in,
                allow_failure: allow_failure.clone(),
                needs: job.needs.clone(),
                dependencies: Vec::new(),
                elsewhere: Vec::new(),
                variables,
                definition: Definition {
                    image: job.image.clone(),
                    services: job.services.clone(),
                    before_script: job.before_script.clone(),
                    script: job.script.clone(),
                    after_script: job.after_script.clone(),
                    retry: job.retry.clone(),
                    timeout: job.timeout,
                    artifacts: job.artifacts.clone(),
                    cache: job.cache.clone(),
                    coverage: job.coverage.clone(),
                    environment: job.environment.clone(),
                    resource_group,
                    interruptible: job.interruptible,
                    tags: job.tags.clone(),
                    node: job.parallel.as_ref().map(|_| (index, total)),
                    trigger: job.trigger.clone(),
                    // A trigger job runs nothing that could use a token.
                    id_tokens: if job.trigger.is_some() { Vec::new() } else { job.id_tokens.clone() },
                },
            });
        }
    }
    if jobs.iter().all(|j| j.stage == ".pre" || j.stage == ".post") {
        return Ok(Err(NoPipeline::NoJobs));
    }
    link(config, &mut jobs, &Linking { positions: &positions, instances: &instances_of, written: &written }, &mut d);
    let stages: Vec<String> = config.stages.iter().filter(|s| jobs.iter().any(|j| &j.stage == *s)).cloned().collect();
    let name = config.workflow.name.as_ref().map(|n| crate::vars::expand(n, &lookup, false));
    d.into_result(Ok(Plan { name, stages, jobs }))
}

fn lookup_in(variables: &[Variable], name: &str) -> Option<String> {
    variables.iter().rev().find(|v| v.key == name).map(|v| v.value.clone())
}

fn set(variables: &mut Vec<Variable>, variable: Variable) {
    variables.retain(|v| v.key != variable.key);
    variables.push(variable);
}

/// The variable values one instance of a `parallel:matrix` job runs with.
type MatrixValues = Vec<(String, String)>;

/// Each instance of a job: (number from 1, how many, the matrix values it runs with).
fn instances(job: &Job) -> Vec<(u32, u32, MatrixValues)> {
    match &job.parallel {
        None => vec![(1, 1, Vec::new())],
        Some(Parallel::Count(n)) => (1..=*n).map(|i| (i, *n, Vec::new())).collect(),
        Some(Parallel::Matrix(entries)) => {
            let combos = combinations(entries);
            let total = combos.len() as u32;
            combos.into_iter().enumerate().map(|(i, values)| (i as u32 + 1, total, values)).collect()
        }
    }
}

/// Every combination of each matrix entry's values, entry by entry.
pub(crate) fn combinations(entries: &[Vec<(String, Vec<String>)>]) -> Vec<MatrixValues> {
    let mut out = Vec::new();
    for entry in entries {
        let mut partial: Vec<MatrixValues> = vec![Vec::new()];
        for (key, values) in entry {
            partial = partial
                .into_iter()
                .flat_map(|prefix| {
                    values.iter().map(move |value| {
                        let mut next = prefix.clone();
                        next.push((key.clone(), value.clone()));
                        next
                    })
                })
                .collect();
        }
        out.extend(partial);
    }
    out
}

/// Whether the job runs, and how: (when, start_in, allow_failure, rule variables).
fn decide(job: &Job, facts: &Facts) -> Option<(When, Option<u64>, AllowFailure, Vec<Variable>)> {
    let job_when = job.when.unwrap_or_default();
    if let Some(rules) = &job.rules {
        let rule = first_match(rules, facts)?;
        let when = rule.when.unwrap_or(job_when);
        if when == When::Never {
            return None;
        }
        let allow_failure = rule.allow_failure.clone().or(job.allow_failure.clone()).unwrap_or(AllowFailure::No);
        return Some((when, rule.start_in.or(job.start_in), allow_failure, rule.variables.clone()));
    }
    let only = job
        .only
        .clone()
        .unwrap_or_else(|| RefFilter { refs: Some(vec!["branches".into(), "tags".into()]), ..RefFilter::default() });
    if !filter_matches(&only, facts) || job.except.as_ref().is_some_and(|except| filter_matches(except, facts)) {
        return None;
    }
    if job_when == When::Never {
        return None;
    }
    // A manual job outside `rules` may fail without failing the pipeline (GitLab's default).
    let default_allow = if job_when == When::Manual { AllowFailure::Yes } else { AllowFailure::No };
    Some((job_when, job.start_in, job.allow_failure.clone().unwrap_or(default_allow), Vec::new()))
}

pub(crate) fn first_match<'r>(rules: &'r [Rule], facts: &Facts) -> Option<&'r Rule> {
    let lookup = |name: &str| facts.lookup(name);
    rules.iter().find(|rule| {
        rule.condition.as_ref().is_none_or(|c| c.evaluate(&lookup))
            && rule.changes.as_ref().is_none_or(|globs| changed(globs, facts))
            && rule.exists.as_ref().is_none_or(|globs| exists(globs, facts))
    })
}

fn glob_set(globs: &[String], facts: &Facts) -> globset::GlobSet {
    let lookup = |name: &str| facts.lookup(name);
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let expanded = crate::vars::expand(glob, &lookup, true);
        if let Ok(glob) = globset::GlobBuilder::new(expanded.trim_start_matches("./")).literal_separator(true).build() {
            builder.add(glob);
        }
    }
    builder.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

fn changed(globs: &[String], facts: &Facts) -> bool {
    let Some(paths) = facts.changed_paths else { return true };
    let set = glob_set(globs, facts);
    paths.iter().any(|p| set.is_match(p))
}

fn exists(globs: &[String], facts: &Facts) -> bool {
    let set = glob_set(globs, facts);
    facts.files.iter().any(|p| set.is_match(p))
}

/// `only`/`except`: every part given must match.
fn filter_matches(filter: &RefFilter, facts: &Facts) -> bool {
    let lookup = |name: &str| facts.lookup(name);
    let refs = filter.refs.as_ref().is_none_or(|refs| refs.iter().any(|r| ref_matches(r, facts)));
    let variables = filter.variables.as_ref().is_none_or(|list| list.iter().any(|e| e.evaluate(&lookup)));
    let changes = filter.changes.as_ref().is_none_or(|globs| changed(globs, facts));
    refs && variables && changes
}

fn ref_matches(pattern: &str, facts: &Facts) -> bool {
    let source = facts.lookup("CI_PIPELINE_SOURCE").unwrap_or_default();
    let branch = facts.lookup("CI_COMMIT_BRANCH");
    let tag = facts.lookup("CI_COMMIT_TAG");
    let (pattern, project) = match pattern.rsplit_once('@') {
        Some((name, project)) if !name.starts_with('/') || name.ends_with('/') => (name, Some(project)),
        _ => (pattern, None),
    };
    if project.is_some_and(|p| Some(p.to_owned()) != facts.lookup("CI_PROJECT_PATH")) {
        return false;
    }
    let by_source = match pattern {
        "branches" => return branch.is_some(),
        "tags" => return tag.is_some(),
        "api" => "api",
        "pipelines" => "pipeline",
        "pushes" => "push",
        "schedules" => "schedule",
        "triggers" => "trigger",
        "web" => "web",
        "merge_requests" => "merge_request_event",
        "external" => "external",
        "chat" => "chat",
        "external_pull_requests" => "external_pull_request_event",
        _ => "",
    };
    if !by_source.is_empty() {
        return source == by_source;
    }
    let name = facts.lookup("CI_COMMIT_REF_NAME").unwrap_or_default();
    if let Some(body) = pattern.strip_prefix('/').and_then(|p| p.rsplit_once('/')) {
        let (body, flags) = body;
        let source = if flags.contains('i') { format!("(?i){body}") } else { body.to_owned() };
        return regex::Regex::new(&source).is_ok_and(|r| r.is_match(&name));
    }
    pattern == name
}

/// Each job as written → its instances in the pipeline, with their matrix values.
type Instances = HashMap<String, Vec<(String, MatrixValues)>>;

struct Linking<'a> {
    positions: &'a HashMap<String, Location>,
    instances: &'a Instances,
    /// Each planned job → the job as written.
    written: &'a HashMap<String, &'a Job>,
}

/// Resolves `needs` (parallel jobs by their base name, optional needs dropped) and
/// `dependencies`, and checks that both point at earlier (or, for needs, the same) stages
/// without cycles.
fn link(config: &Config, jobs: &mut [PlannedJob], linking: &Linking, d: &mut Diagnostics) {
    let stage_of: HashMap<String, usize> =
        jobs.iter().map(|j| (j.name.clone(), config.stages.iter().position(|s| *s == j.stage).unwrap_or(0))).collect();
    let defined: HashSet<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
    for job in jobs.iter_mut() {
        let at = linking.positions[&job.name].clone();
        let my_stage = stage_of[&job.name];
        if let Some(needs) = job.needs.take() {
            let (elsewhere, needs): (Vec<Need>, Vec<Need>) = needs.into_iter().partition(Need::is_elsewhere);
            job.elsewhere = elsewhere.into_iter().filter(|n| n.artifacts).collect();
            let mut resolved = Vec::new();
            for need in needs {
                let Some(found) = linking.instances.get(&need.job) else {
                    if !need.optional {
                        let why = if defined.contains(need.job.as_str()) {
                            "is not in this pipeline"
                        } else {
                            "does not exist"
                        };
                        d.push(at.clone(), format!("`{}` needs `{}`, which {why}", job.name, need.job));
                    }
                    continue;
                };
                let wanted = combinations(&need.matrix);
                for (name, values) in found {
                    if !wanted.is_empty() && !wanted.iter().any(|combo| combo.iter().all(|kv| values.contains(kv))) {
                        continue;
                    }
                    if stage_of[name] > my_stage {
                        d.push(at.clone(), format!("`{}` needs `{name}`, which is in a later stage", job.name));
                    }
                    resolved.push(Need {
                        job: name.clone(),
                        artifacts: need.artifacts,
                        optional: need.optional,
                        matrix: Vec::new(),
                        pipeline: None,
                        project: None,
                    });
                }
            }
            if resolved.iter().any(|n| n.job == job.name) {
                d.push(at.clone(), format!("`{}` needs itself", job.name));
            }
            job.dependencies = resolved.iter().filter(|n| n.artifacts).map(|n| n.job.clone()).collect();
            job.needs = Some(resolved);
        } else {
            job.dependencies = jobs_before(&stage_of, my_stage);
        }
        if let Some(list) = linking.written.get(&job.name).and_then(|j| j.dependencies.as_ref()) {
            let mut deps = Vec::new();
            for dependency in list {
                match linking.instances.get(dependency) {
                    Some(found) => {
                        for (name, _) in found {
                            if stage_of[name] >= my_stage {
                                d.push(
                                    at.clone(),
                                    format!("`{}` depends on `{name}`, which is not in an earlier stage", job.name),
                                );
                            }
                            deps.push(name.clone());
                        }
                    }
                    None => d.push(
                        at.clone(),
                        format!("`{}` depends on `{dependency}`, which is not in this pipeline", job.name),
                    ),
                }
            }
            job.dependencies = deps;
        }
    }
    // Trigger jobs have no artifacts to give, and download none.
    let triggers: HashSet<String> =
        jobs.iter().filter(|j| j.definition.trigger.is_some()).map(|j| j.name.clone()).collect();
    for job in jobs.iter_mut() {
        if job.definition.trigger.is_some() {
            job.dependencies.clear();
        } else {
            job.dependencies.retain(|name| !triggers.contains(name));
        }
    }
    check_cycles(jobs, linking.positions, d);
}

fn jobs_before(stage_of: &HashMap<String, usize>, stage: usize) -> Vec<String> {
    let mut names: Vec<String> = stage_of.iter().filter(|(_, s)| **s < stage).map(|(n, _)| n.clone()).collect();
    names.sort();
    names
}

/// `needs` within one stage can form a cycle; report each job on one.
fn check_cycles(jobs: &[PlannedJob], positions: &HashMap<String, Location>, d: &mut Diagnostics) {
    let edges: HashMap<&str, Vec<&str>> =
        jobs.iter().map(|j| (j.name.as_str(), j.needs.iter().flatten().map(|n| n.job.as_str()).collect())).collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn visit<'a>(node: &'a str, edges: &HashMap<&'a str, Vec<&'a str>>, state: &mut HashMap<&'a str, u8>) -> bool {
        match state.get(node).copied().unwrap_or(0) {
            1 => return true,
            2 => return false,
            _ => {}
        }
        state.insert(node, 1);
        let cyclic = edges.get(node).into_iter().flatten().any(|next| visit(next, edges, state));
        state.insert(node, 2);
        cyclic
    }
    for job in jobs {
        let mut fresh = HashMap::new();
        if state.get(job.name.as_str()).copied().unwrap_or(0) == 0 && visit(&job.name, &edges, &mut fresh) {
            d.push(positions[&job.name].clone(), format!("`{}` is part of a cycle of `needs`", job.name));
        }
        state.extend(fresh);
    }
}
