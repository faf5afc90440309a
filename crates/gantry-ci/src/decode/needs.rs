//! A job's `needs:`: jobs of its pipeline (with their artifacts, optional ones, instances of a
//! matrix), and jobs of other pipelines it takes artifacts from (`pipeline`, `project`).

use super::*;

/// `needs:` — a list of job names or hashes.
pub(super) fn needs(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Vec<Need>> {
    let Some(items) = flattened(node) else {
        d.push(node.at.clone(), format!("`{context}` should be a list, not {}", node.kind()));
        return None;
    };
    if items.len() > MAX_NEEDS {
        d.push(node.at.clone(), format!("`{context}` lists {} jobs; the limit is {MAX_NEEDS}", items.len()));
    }
    let mut out = Vec::new();
    for item in items {
        if is_scalar(item) {
            out.push(Need {
                job: item.as_str()?.to_owned(),
                artifacts: true,
                optional: false,
                matrix: Vec::new(),
                pipeline: None,
                project: None,
            });
            continue;
        }
        if item.as_map().is_none() {
            d.push(item.at.clone(), format!("each of `{context}` should be a job name or a hash"));
            continue;
        }
        check_keys(item, context, &["job", "artifacts", "optional", "parallel", "project", "pipeline", "ref"], d);
        let pipeline = item.keyword("pipeline").and_then(|n| string(n, &what(context, "pipeline"), d));
        let project = item.keyword("project").and_then(|n| string(n, &what(context, "project"), d));
        let reference = item.keyword("ref").and_then(|n| string(n, &what(context, "ref"), d));
        let project = match (project, reference) {
            (Some(_), _) if pipeline.is_some() => {
                d.push(item.at.clone(), format!("each of `{context}` takes `project` or `pipeline`, not both"));
                continue;
            }
            (Some(project), Some(reference)) => Some((project, reference)),
            (Some(_), None) => {
                d.push(item.at.clone(), format!("`{context}:project` needs the `ref` whose job it is"));
                continue;
            }
            (None, Some(_)) => {
                d.push(item.at.clone(), format!("`{context}:ref` goes with `project`"));
                continue;
            }
            (None, None) => None,
        };
        let Some(job) = item.keyword("job").and_then(|n| string(n, &what(context, "job"), d)) else {
            d.push(item.at.clone(), format!("each of `{context}` needs a `job`"));
            continue;
        };
        let matrix = item
            .keyword("parallel")
            .and_then(|p| {
                check_keys(p, &what(context, "parallel"), &["matrix"], d);
                p.keyword("matrix")
            })
            .map(|m| super::job::matrix(m, &what(context, "parallel:matrix"), d))
            .unwrap_or_default();
        out.push(Need {
            job,
            artifacts: item
                .keyword("artifacts")
                .and_then(|n| boolean(n, &what(context, "artifacts"), d))
                .unwrap_or(true),
            optional: item.keyword("optional").and_then(|n| boolean(n, &what(context, "optional"), d)).unwrap_or(false),
            matrix,
            pipeline,
            project,
        });
    }
    Some(out)
}
