//! How long planning a large pipeline takes: a main file with 50 includes (20 local files, 15
//! files of other projects, 15 components with inputs) defining 500 jobs in all, read through an
//! in-memory `Files`, then `gantry_ci::load_for` + `gantry_ci::plan` timed over many rounds.
//! The figure: under 200 ms. Run it in release mode: `scripts/bench-ci-plan.sh`
//! (`cargo run --release -p gantry-ci --example plan_bench -- [ROUNDS]`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gantry_ci::component::{ComponentAddress, newest_release};
use gantry_ci::{Component, Facts, Files};

/// The server's host, as component addresses name it.
const HOST: &str = "gantry.example";
const LOCAL_FILES: usize = 20;
const PROJECT_FILES: usize = 15;
const COMPONENTS: usize = 15;
const JOBS_PER_FILE: usize = 10;
/// Rounds timed after the warm-up ones.
const DEFAULT_ROUNDS: usize = 100;
const WARM_UP: usize = 5;

/// Every file of the pipeline's project, of the other projects (by project and ref) and the
/// components' files (by project and tag).
struct Memory {
    local: HashMap<String, String>,
    projects: HashMap<(String, String, String), String>,
    tags: HashMap<String, Vec<String>>,
}

impl Files for Memory {
    fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String> {
        let found = match project {
            None => self.local.get(path),
            Some(project) => {
                let key = (project.to_owned(), reference.unwrap_or("main").to_owned(), path.to_owned());
                self.projects.get(&key)
            }
        };
        found.cloned().ok_or_else(|| format!("Local file `{path}` does not exist!"))
    }

    fn component(&self, address: &str) -> Result<Component, String> {
        let parsed = ComponentAddress::parse(address, HOST)?;
        let tags = self.tags.get(&parsed.project).ok_or_else(|| parsed.error("project does not exist"))?;
        let version =
            newest_release(tags.iter().map(String::as_str), &parsed.version).unwrap_or(&parsed.version).to_owned();
        for path in parsed.paths() {
            if let Ok(text) = self.read(Some(&parsed.project), Some(&version), &path) {
                return Ok(Component {
                    project: parsed.project.clone(),
                    sha: format!("{:0>40}", version.replace('.', "")),
                    path,
                    text,
                    name: parsed.name.clone(),
                    version: Some(version.clone()),
                });
            }
        }
        Err(parsed.error("content not found"))
    }
}

/// Ten jobs of one file, named with `prefix`: a hidden template they extend, rules, needs
/// within the file, variables, artifacts and a cache, as real files have. `stage` is written as
/// it is (a component passes `$[[ inputs.stage ]]`).
fn jobs(prefix: &str, stage: &str, image: &str) -> String {
    let mut text = format!(
        ".{prefix}-base:\n  image: {image}\n  before_script:\n    - echo preparing {prefix}\n  \
         variables:\n    CARGO_HOME: $CI_PROJECT_DIR/.cargo\n    PART: {prefix}\n  \
         cache:\n    key: {prefix}-$CI_COMMIT_REF_SLUG\n    paths: [.cargo/]\n  \
         retry:\n    max: 2\n    when: [runner_system_failure]\n  interruptible: true\n\n"
    );
    for n in 0..JOBS_PER_FILE {
        text.push_str(&format!(
            "{prefix}-job-{n}:\n  extends: .{prefix}-base\n  stage: {stage}\n  script:\n    - make {prefix}-{n}\n    \
             - ./check --part $PART --job {n}\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n      \
             when: never\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n    - changes: [src/**/*]\n  \
             artifacts:\n    paths:\n      - out/{prefix}-{n}/\n    expire_in: 1 week\n"
        ));
        if n > 0 {
            text.push_str(&format!("  needs:\n    - {prefix}-job-{}\n", n - 1));
        }
        text.push('\n');
    }
    text
}

/// The pipeline's project, the other projects and the components, and the main file.
fn fixture() -> (Memory, String) {
    let mut memory = Memory { local: HashMap::new(), projects: HashMap::new(), tags: HashMap::new() };
    let mut main = String::from("stages: [build, test, deploy]\n\nvariables:\n  GLOBAL: one\n\ninclude:\n");
    for n in 0..LOCAL_FILES {
        let path = format!("ci/local-{n:02}.yml");
        memory.local.insert(path.clone(), jobs(&format!("local{n:02}"), "build", "rust:1.90"));
        main.push_str(&format!("  - local: {path}\n"));
    }
    for n in 0..PROJECT_FILES {
        let project = format!("shared/pipelines-{n:02}");
        let key = (project.clone(), "v3".to_owned(), "templates/jobs.yml".to_owned());
        memory.projects.insert(key, jobs(&format!("shared{n:02}"), "test", "python:3.13"));
        main.push_str(&format!("  - project: {project}\n    ref: v3\n    file: templates/jobs.yml\n"));
    }
    let header = "spec:\n  inputs:\n    stage:\n      default: deploy\n      options: [build, test, deploy]\n    \
                  suffix:\n      description: Names the jobs apart\n    image:\n      default: alpine:3.20\n      \
                  regex: ^[a-z0-9.:/-]+$\n    parallel_ok:\n      type: boolean\n      default: true\n---\n";
    for n in 0..COMPONENTS {
        let project = format!("components/kit-{n:02}");
        let body = jobs("$[[ inputs.suffix ]]", "$[[ inputs.stage ]]", "$[[ inputs.image ]]");
        let tags = ["1.0.0", "1.1.0", "1.2.3"].map(str::to_owned).to_vec();
        for tag in &tags {
            let key = (project.clone(), tag.clone(), "templates/deploy.yml".to_owned());
            memory.projects.insert(key, format!("{header}{body}"));
        }
        memory.tags.insert(project.clone(), tags);
        main.push_str(&format!(
            "  - component: {HOST}/{project}/deploy@~latest\n    inputs:\n      suffix: kit{n:02}\n      \
             stage: {}\n      image: registry.example/kit:{n}\n",
            ["build", "test", "deploy"][n % 3]
        ));
    }
    (memory, main)
}

/// What GitLab's predefined variables would be for a push to `main`.
fn variables() -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_SERVER_HOST", HOST),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_REF_SLUG", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("CI_PROJECT_PATH", "acme/app"),
        ("CI_PROJECT_DIR", "/builds/acme/app"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for n in 0..50 {
        variables.push((format!("PROJECT_VARIABLE_{n}"), format!("value {n}")));
    }
    variables
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() {
    let rounds = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_ROUNDS).max(1);
    let (files, main_file) = fixture();
    let variables = variables();
    let changed = vec!["src/lib.rs".to_owned()];
    let facts = Facts { variables: &variables, changed_paths: Some(&changed), files: &[] };
    let load = || {
        gantry_ci::load_for(&files, ".gitlab-ci.yml", &main_file, &facts, &[])
            .unwrap_or_else(|problems| panic!("the benchmark's configuration is refused: {problems:?}"))
    };
    let plan_of = |config: &gantry_ci::Config| {
        gantry_ci::plan(config, &facts)
            .unwrap_or_else(|problems| panic!("the benchmark's pipeline cannot be planned: {problems:?}"))
            .unwrap_or_else(|none| panic!("the benchmark's pipeline plans no jobs: {none:?}"))
    };
    let plan = plan_of(&load());
    let includes = LOCAL_FILES + PROJECT_FILES + COMPONENTS;
    assert_eq!(plan.jobs.len(), includes * JOBS_PER_FILE, "every included job is planned");
    let component_job =
        plan.jobs.iter().find(|job| job.name == "kit07-job-9").expect("components' jobs are named by input");
    let image = component_job.definition.image.as_ref().map(|image| image.name.as_str());
    assert_eq!(image, Some("registry.example/kit:7"), "the component's inputs are interpolated");
    for _ in 0..WARM_UP {
        plan_of(&load());
    }
    // Each round: the whole (load and plan), and its two parts.
    let mut times = Vec::with_capacity(rounds);
    let mut loads = Vec::with_capacity(rounds);
    let mut plans = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let config = std::hint::black_box(load());
        let loaded = Instant::now();
        std::hint::black_box(plan_of(&config));
        let done = Instant::now();
        times.push(done - start);
        loads.push(loaded - start);
        plans.push(done - loaded);
    }
    loads.sort();
    plans.sort();
    times.sort();
    let median = percentile(&times, 0.5);
    let p95 = percentile(&times, 0.95);
    println!(
        "plan {} jobs from {includes} includes ({LOCAL_FILES} local, {PROJECT_FILES} project, {COMPONENTS} component with inputs), \
         main file {} bytes, {} bytes in all",
        plan.jobs.len(),
        main_file.len(),
        main_file.len()
            + files.local.values().map(String::len).sum::<usize>()
            + files
                .projects
                .iter()
                .filter(|((_, r, _), _)| r == "v3" || r == "1.2.3")
                .map(|(_, t)| t.len())
                .sum::<usize>()
    );
    println!(
        "rounds {rounds}: median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms (target: under 200 ms)",
        millis(median),
        millis(p95),
        millis(times[0]),
        millis(times[times.len() - 1])
    );
    println!(
        "  of which load_for (includes, inputs, extends, checks) median {:.1} ms, plan median {:.1} ms",
        millis(percentile(&loads, 0.5)),
        millis(percentile(&plans, 0.5))
    );
    if median >= Duration::from_millis(200) {
        eprintln!("the median is over the 200 ms target");
        std::process::exit(1);
    }
}
