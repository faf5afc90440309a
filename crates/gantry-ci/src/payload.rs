//! A job's payload for its runner, from plain data: the variables in GitLab's order of
//! precedence, the steps and the artifacts to upload. The server, `gantry ci lint` and
//! `gantry ci exec` all build them here, so a job sees the same variables wherever it is planned
//! or run.
//!
//! Precedence, lowest first (later entries win; GitLab's documented order):
//! 1. predefined variables (`predefined::for_pipeline`, then the job's `predefined::for_job`);
//! 2. the CI file's variables (global, then the job's, `parallel` and rule variables), each
//!    expanded against what comes before it;
//! 3. dotenv reports of the jobs this one depends on;
//! 4. CI/CD variables of the instance, then the groups from the top down, then the project;
//! 5. the pipeline's own variables (given when it was run, by a trigger or a schedule).

use crate::keywords::{Environment, ExpireIn, Variable, When};
use crate::plan::Definition;
use crate::predefined;
use crate::protocol::{ArtifactSpec, JobVariable, Step};
use crate::vars;

/// A CI/CD variable of the instance, a group or the project, as settings hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiCdVariable {
    pub key: String,
    pub value: String,
    /// Replaced by `[MASKED]` in logs.
    pub masked: bool,
    /// `$OTHER` in the value stays as written.
    pub raw: bool,
    /// A file variable: the runner writes the value to a file.
    pub file: bool,
}

/// Every source of a job's variables, each in its own order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layers<'a> {
    /// The pipeline's predefined variables.
    pub pipeline_predefined: &'a [(String, String)],
    /// The job's predefined variables (those carrying the token are not public).
    pub job_predefined: &'a [(String, String)],
    /// The CI file's variables of the job.
    pub file: &'a [Variable],
    /// Variables of the dotenv reports of the jobs this one depends on.
    pub dotenv: &'a [(String, String)],
    /// CI/CD variables, instance first, then groups from the top down, then the project (the
    /// ones for the job's ref and environment only).
    pub ci_cd: &'a [CiCdVariable],
    /// The pipeline's own variables.
    pub pipeline: &'a [(String, String)],
}

/// A job's variables in order, and the values its logs must mask.
#[derive(Debug, Clone, Default)]
pub struct JobVariables {
    pub variables: Vec<JobVariable>,
    /// Masked values, as stored and as expanded (the job token is not among them).
    pub secrets: Vec<String>,
}

/// The variables `rules:if`, `workflow:rules` and `only/except:variables` see when a pipeline is
/// planned: predefined ones, then CI/CD variables (as written), then the pipeline's own.
pub fn rules_variables(
    predefined: &[(String, String)],
    ci_cd: &[CiCdVariable],
    pipeline: &[(String, String)],
) -> Vec<(String, String)> {
    let mut variables = predefined.to_vec();
    variables.extend(ci_cd.iter().map(|variable| (variable.key.clone(), variable.value.clone())));
    variables.extend_from_slice(pipeline);
    variables
}

/// The job's environment name, its variables expanded against the layers below CI/CD variables
/// (which may depend on the environment, so cannot take part); None when it has none.
pub fn job_environment(layers: &Layers<'_>, name: &str) -> Option<String> {
    let below = below_ci_cd(layers);
    Some(expand_over(&below, name)).filter(|name| !name.is_empty())
}

/// A job's environment as its deployment records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The name, expanded as `job_environment` expands it.
    pub name: String,
    /// The URL, its variables expanded.
    pub url: Option<String>,
    /// `start`, `prepare`, `stop`, `verify` or `access`.
    pub action: String,
    pub on_stop: Option<String>,
    /// When the environment stops by itself.
    pub auto_stop: Option<AutoStop>,
    pub deployment_tier: Option<String>,
}

/// `environment:auto_stop_in` once expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoStop {
    Never,
    AfterSeconds(u64),
}

/// The deployment a job with an `environment` makes; None when its name expands to nothing. As in
/// GitLab, the URL and `auto_stop_in` are expanded only when the job deploys, over every variable
/// of the job (CI/CD variables of its environment too); an `auto_stop_in` that is then not a
/// duration or `never` is ignored, as GitLab ignores it.
pub fn job_deployment(layers: &Layers<'_>, environment: &Environment) -> Option<Deployment> {
    let name = job_environment(layers, &environment.name)?;
    let variables = job_variables(layers).variables;
    let auto_stop = environment.auto_stop_in.as_deref().and_then(|text| {
        let expanded = expand_over(&variables, text);
        match expanded.trim() {
            "never" => Some(AutoStop::Never),
            other => vars::parse_duration(other).map(AutoStop::AfterSeconds),
        }
    });
    Some(Deployment {
        name,
        url: environment.url.as_deref().map(|url| expand_over(&variables, url)),
        action: environment.action.clone(),
        on_stop: environment.on_stop.clone(),
        auto_stop,
        deployment_tier: environment.deployment_tier.clone(),
    })
}

/// Every variable of a job, in the order of precedence the module documents.
pub fn job_variables(layers: &Layers<'_>) -> JobVariables {
    let mut variables = below_ci_cd(layers);
    let mut secrets = Vec::new();
    for variable in layers.ci_cd {
        let value = if variable.raw { variable.value.clone() } else { expand_over(&variables, &variable.value) };
        if variable.masked {
            secrets.push(variable.value.clone());
            secrets.push(value.clone());
        }
        variables.push(JobVariable {
            key: variable.key.clone(),
            value,
            public: false,
            masked: variable.masked,
            file: variable.file,
        });
    }
    variables.extend(layers.pipeline.iter().map(|(key, value)| hidden(key, value)));
    JobVariables { variables, secrets }
}

/// The steps of a job's payload: `script` (`before_script` and `script` together) and, when
/// there is one, `after_script` (always run, five minutes, its failure ignored).
pub fn job_steps(definition: &Definition, timeout: u64) -> Vec<Step> {
    let mut steps = vec![Step {
        name: "script".to_owned(),
        script: definition.before_script.iter().chain(&definition.script).cloned().collect(),
        timeout,
        when: "on_success".to_owned(),
        allow_failure: false,
    }];
    if !definition.after_script.is_empty() {
        steps.push(Step {
            name: "after_script".to_owned(),
            script: definition.after_script.clone(),
            timeout: 300,
            when: "always".to_owned(),
            allow_failure: true,
        });
    }
    steps
}

/// The artifact archives and reports a job's runner uploads.
pub fn artifact_specs(definition: &Definition) -> Vec<ArtifactSpec> {
    let Some(artifacts) = &definition.artifacts else { return Vec::new() };
    let when = match artifacts.when {
        When::OnFailure => "on_failure",
        When::Always => "always",
        _ => "on_success",
    };
    let expire_in = match artifacts.expire_in {
        Some(ExpireIn::Seconds(seconds)) => Some(seconds),
        _ => None,
    };
    let mut specs = Vec::new();
    if !artifacts.paths.is_empty() || artifacts.untracked {
        specs.push(ArtifactSpec {
            name: artifacts.name.clone(),
            untracked: artifacts.untracked,
            paths: artifacts.paths.clone(),
            exclude: artifacts.exclude.clone(),
            when: when.to_owned(),
            artifact_type: "archive".to_owned(),
            artifact_format: "zip".to_owned(),
            expire_in,
        });
    }
    let mut report = |kind: &str, paths: Vec<String>| {
        if !paths.is_empty() {
            specs.push(ArtifactSpec {
                name: None,
                untracked: false,
                paths,
                exclude: Vec::new(),
                when: "always".to_owned(),
                artifact_type: kind.to_owned(),
                artifact_format: "raw".to_owned(),
                expire_in,
            });
        }
    };
    report("junit", artifacts.reports.junit.clone());
    report("dotenv", artifacts.reports.dotenv.clone());
    if let Some((format, path)) = &artifacts.reports.coverage_report {
        report(format, vec![path.clone()]);
    }
    for (kind, paths) in &artifacts.reports.kept {
        report(kind, paths.clone());
    }
    specs
}

/// Layers 1 to 3: predefined, the CI file's (expanded), dotenv.
fn below_ci_cd(layers: &Layers<'_>) -> Vec<JobVariable> {
    let mut variables: Vec<JobVariable> = Vec::with_capacity(
        layers.pipeline_predefined.len()
            + layers.job_predefined.len()
            + layers.file.len()
            + layers.dotenv.len()
            + layers.ci_cd.len()
            + layers.pipeline.len(),
    );
    variables.extend(layers.pipeline_predefined.iter().map(|(key, value)| public(key, value)));
    for (key, value) in layers.job_predefined {
        variables.push(if predefined::is_secret(key) { hidden(key, value) } else { public(key, value) });
    }
    for variable in layers.file {
        let value = if variable.expand { expand_over(&variables, &variable.value) } else { variable.value.clone() };
        variables.push(public(&variable.key, &value));
    }
    variables.extend(layers.dotenv.iter().map(|(key, value)| hidden(key, value)));
    variables
}

/// `text` with `$VAR` replaced by the last of `variables` of that name.
fn expand_over(variables: &[JobVariable], text: &str) -> String {
    let lookup = |name: &str| variables.iter().rev().find(|v| v.key == name).map(|v| v.value.clone());
    vars::expand(text, &lookup, false)
}

fn public(key: &str, value: &str) -> JobVariable {
    JobVariable { key: key.to_owned(), value: value.to_owned(), public: true, masked: false, file: false }
}

fn hidden(key: &str, value: &str) -> JobVariable {
    JobVariable { public: false, ..public(key, value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn file_variable(key: &str, value: &str, expand: bool) -> Variable {
        Variable { key: key.to_owned(), value: value.to_owned(), description: None, expand, options: Vec::new() }
    }

    fn ci_cd(key: &str, value: &str) -> CiCdVariable {
        CiCdVariable { key: key.to_owned(), value: value.to_owned(), masked: false, raw: false, file: false }
    }

    fn last<'v>(variables: &'v [JobVariable], key: &str) -> &'v JobVariable {
        variables.iter().rev().find(|v| v.key == key).unwrap_or_else(|| panic!("no {key}"))
    }

    #[test]
    fn later_layers_win_in_gitlabs_order() {
        let pipeline_predefined = pairs(&[("CI_COMMIT_BRANCH", "main"), ("WHO", "predefined")]);
        let job_predefined = pairs(&[("CI_JOB_NAME", "build"), ("CI_JOB_TOKEN", "glcbt-x")]);
        let file = [file_variable("WHO", "file", true), file_variable("WHERE", "on $CI_COMMIT_BRANCH", true)];
        let dotenv = pairs(&[("WHO", "dotenv"), ("VERSION", "1.0")]);
        let settings = [ci_cd("WHO", "project"), ci_cd("URL", "$WHERE/$VERSION")];
        let pipeline = pairs(&[("WHO", "pipeline")]);
        let layers = Layers {
            pipeline_predefined: &pipeline_predefined,
            job_predefined: &job_predefined,
            file: &file,
            dotenv: &dotenv,
            ci_cd: &settings,
            pipeline: &pipeline,
        };
        let built = job_variables(&layers).variables;
        assert_eq!(last(&built, "WHO").value, "pipeline");
        assert_eq!(last(&built, "WHERE").value, "on main");
        assert_eq!(last(&built, "URL").value, "on main/1.0", "CI/CD variables expand over the layers below");
        assert!(!last(&built, "CI_JOB_TOKEN").public && last(&built, "CI_JOB_NAME").public);
        let order: Vec<&str> = built.iter().filter(|v| v.key == "WHO").map(|v| v.value.as_str()).collect();
        assert_eq!(order, ["predefined", "file", "dotenv", "project", "pipeline"]);

        let without_pipeline = job_variables(&Layers { pipeline: &[], ..layers }).variables;
        assert_eq!(last(&without_pipeline, "WHO").value, "project");
    }

    #[test]
    fn raw_and_masked_ci_cd_variables() {
        let below = pairs(&[("HOST", "db")]);
        let settings = [
            CiCdVariable { raw: true, ..ci_cd("RAW", "$HOST") },
            CiCdVariable { masked: true, ..ci_cd("PASSWORD", "secret-$HOST") },
        ];
        let built = job_variables(&Layers { pipeline_predefined: &below, ci_cd: &settings, ..Layers::default() });
        assert_eq!(last(&built.variables, "RAW").value, "$HOST");
        assert!(last(&built.variables, "PASSWORD").masked);
        assert_eq!(built.secrets, ["secret-$HOST", "secret-db"]);
    }

    #[test]
    fn an_unexpanded_file_variable_keeps_its_dollars() {
        let below = pairs(&[("HOST", "db")]);
        let file = [file_variable("LITERAL", "$HOST", false)];
        let built = job_variables(&Layers { pipeline_predefined: &below, file: &file, ..Layers::default() });
        assert_eq!(last(&built.variables, "LITERAL").value, "$HOST");
    }

    #[test]
    fn the_environment_sees_the_layers_below_ci_cd_variables() {
        let below = pairs(&[("CI_COMMIT_REF_SLUG", "feature-x")]);
        let settings = [ci_cd("CI_COMMIT_REF_SLUG", "from-settings")];
        let layers = Layers { pipeline_predefined: &below, ci_cd: &settings, ..Layers::default() };
        assert_eq!(job_environment(&layers, "review/$CI_COMMIT_REF_SLUG").as_deref(), Some("review/feature-x"));
        assert_eq!(job_environment(&layers, "$NOTHING"), None);
    }

    #[test]
    fn a_deployment_expands_its_url_and_auto_stop_over_every_variable() {
        let below = pairs(&[("CI_COMMIT_REF_SLUG", "feature-x")]);
        let file = [file_variable("DOMAIN", "example.com", true)];
        let settings = [ci_cd("TTL", "3 days")];
        let layers = Layers { pipeline_predefined: &below, file: &file, ci_cd: &settings, ..Layers::default() };
        let environment = Environment {
            name: "review/$CI_COMMIT_REF_SLUG".to_owned(),
            url: Some("https://$CI_COMMIT_REF_SLUG.$DOMAIN".to_owned()),
            action: "start".to_owned(),
            on_stop: Some("stop".to_owned()),
            auto_stop_in: Some("$TTL".to_owned()),
            deployment_tier: None,
        };
        let deployment = job_deployment(&layers, &environment).unwrap();
        assert_eq!(deployment.name, "review/feature-x");
        assert_eq!(deployment.url.as_deref(), Some("https://feature-x.example.com"));
        assert_eq!(deployment.auto_stop, Some(AutoStop::AfterSeconds(259_200)));

        let never = Environment { auto_stop_in: Some("never".to_owned()), ..environment.clone() };
        assert_eq!(job_deployment(&layers, &never).unwrap().auto_stop, Some(AutoStop::Never));
        // Not a duration once expanded: ignored, as GitLab ignores it.
        let unset = Environment { auto_stop_in: Some("$UNSET".to_owned()), ..environment.clone() };
        assert_eq!(job_deployment(&layers, &unset).unwrap().auto_stop, None);
        let nameless = Environment { name: "$NOTHING".to_owned(), ..environment };
        assert_eq!(job_deployment(&layers, &nameless), None);
    }

    #[test]
    fn rules_see_predefined_then_ci_cd_then_pipeline_variables() {
        let predefined = pairs(&[("A", "predefined"), ("B", "predefined")]);
        let variables = rules_variables(&predefined, &[ci_cd("A", "settings")], &pairs(&[("B", "pipeline")]));
        let lookup = |key: &str| variables.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!((lookup("A"), lookup("B")), (Some("settings"), Some("pipeline")));
    }

    #[test]
    fn steps_join_before_script_and_script_and_keep_after_script_apart() {
        let mut definition: Definition = serde_json::from_value(serde_json::json!({
            "before_script": ["setup"], "script": ["make"], "after_script": ["cleanup"]
        }))
        .unwrap();
        let steps = job_steps(&definition, 600);
        assert_eq!(steps.len(), 2);
        assert_eq!(
            (steps[0].name.as_str(), steps[0].script.clone(), steps[0].timeout),
            ("script", vec!["setup".to_owned(), "make".to_owned()], 600)
        );
        assert_eq!(
            (steps[1].name.as_str(), steps[1].when.as_str(), steps[1].allow_failure),
            ("after_script", "always", true)
        );
        definition.after_script.clear();
        assert_eq!(job_steps(&definition, 600).len(), 1);
        assert!(artifact_specs(&definition).is_empty());
    }

    #[test]
    fn kept_reports_are_uploaded_under_their_type() {
        let definition: Definition = serde_json::from_value(serde_json::json!({
            "script": ["scan"],
            "artifacts": {"when": "on_success", "reports": {"junit": ["report.xml"], "kept": [["sast", ["gl-sast.json"]]]}}
        }))
        .unwrap();
        let specs = artifact_specs(&definition);
        let kinds: Vec<(&str, &[String])> =
            specs.iter().map(|spec| (spec.artifact_type.as_str(), spec.paths.as_slice())).collect();
        assert_eq!(kinds, [("junit", &["report.xml".to_owned()][..]), ("sast", &["gl-sast.json".to_owned()][..])]);
        assert!(specs.iter().all(|spec| spec.when == "always"), "reports are uploaded whatever the job's end");
    }
}
