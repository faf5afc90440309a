//! What the fuzz targets share: the in-memory files `include:` reaches, and a SIGSEGV handler
//! that turns a stack overflow into a crash libFuzzer records.

use gantry_ci::component::{ComponentAddress, newest_release};
use gantry_ci::{Component, Files};

/// The files an `include:` can reach: local ones (nested, cyclic, not a hash, broken, empty,
/// with `spec:inputs`), one other project at two refs, a component at two versions, a template
/// and a remote file. Anything else does not exist.
pub struct FixedFiles;

/// A file with a header of every kind of input, interpolated in keys, values and lists.
const WITH_INPUTS: &str = concat!(
    "spec:\n  inputs:\n    name:\n      default: job\n      regex: ^[a-z-]+$\n",
    "    stage:\n      default: test\n      options: [build, test]\n",
    "    count:\n      type: number\n      default: 2\n",
    "    flag:\n      type: boolean\n      default: false\n",
    "    steps:\n      type: array\n      default: [make]\n",
    "    text:\n      default: '$CI_COMMIT_BRANCH-$CI_PROJECT_PATH'\n",
    "---\n",
    "$[[ inputs.name ]]:\n  stage: $[[ inputs.stage ]]\n  parallel: $[[ inputs.count ]]\n",
    "  allow_failure: $[[ inputs.flag ]]\n  script:\n    - $[[ inputs.steps ]]\n",
    "    - echo $[[ inputs.text | expand_vars | truncate(0, 12) | posix_escape ]] $[[ inputs.steps ]]\n",
);

impl Files for FixedFiles {
    fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String> {
        let text = match (project, reference, path) {
            (None, _, "ci/build.yml") => {
                "build:\n  stage: build\n  script: make\n  variables:\n    OVERRIDE: theirs\n    KEEP: theirs\n"
            }
            (None, _, "ci/test.yml") => "test:\n  script: make test\n  needs: [build]\n",
            (None, _, "ci/nested.yml") => concat!(
                "include:\n  - ci/build.yml\n  - local: /ci/templates.yml\n",
                ".base: &base\n  image: alpine:3\n  tags: [linux]\n",
                "lint:\n  <<: *base\n  extends: .rules\n  script: [!reference [.setup, script], make lint]\n",
            ),
            (None, _, "ci/templates.yml") => concat!(
                ".setup:\n  script: [echo setup]\n",
                ".rules:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - changes: [\"src/**/*\"]\n",
            ),
            (None, _, "ci/self.yml") => "include: ci/self.yml\nloop:\n  script: x\n",
            (None, _, "ci/list.yml") => "- not\n- a hash\n",
            (None, _, "ci/broken.yml") => "job: [unclosed\n",
            (None, _, "ci/empty.yml") => "",
            (None, _, "ci/inputs.yml") => WITH_INPUTS,
            (None, _, "ci/jobs/a.yml") => "a:\n  script: a\n",
            (None, _, "ci/jobs/b.yml") => "include: ci/jobs/a.yml\nb:\n  script: b\n",
            (Some("acme/components"), Some(_), "templates/common.yml") => ".common:\n  tags: [linux]\n",
            (Some("acme/templates"), None | Some("main"), "deploy.yml") => concat!(
                "stages: [build, test, deploy]\n",
                "deploy:\n  stage: deploy\n  script: ./deploy\n  environment: production\n",
                "  rules:\n    - if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'\n      when: manual\n",
            ),
            (Some("acme/templates"), Some("v1"), "deploy.yml") => "deploy:\n  script: ./old-deploy\n",
            (Some(_), _, _) => return Err(format!("the project does not exist or you may not read `{path}`")),
            (None, _, _) => return Err(format!("`{path}` does not exist")),
        };
        Ok(text.to_owned())
    }

    fn list(&self, project: &str, _: Option<&str>) -> Result<Vec<String>, String> {
        match project {
            "acme/templates" => Ok(vec!["deploy.yml".to_owned()]),
            _ => Err(format!("the project `{project}` does not exist or you may not read it")),
        }
    }

    fn component(&self, address: &str) -> Result<Component, String> {
        let parsed = ComponentAddress::parse(address, "gantry.test")?;
        if parsed.project != "acme/components" || !["build", "deploy"].contains(&parsed.name.as_str()) {
            return Err(parsed.error("content not found"));
        }
        let version = newest_release(["1.0.0", "1.2.0", "v2.0.0-rc.1"], &parsed.version).unwrap_or(&parsed.version);
        let text = concat!(
            "spec:\n  component: [name, version, reference, sha]\n  inputs:\n    image:\n",
            "---\ninclude: templates/common.yml\n",
            "$[[ component.name ]]:\n  extends: .common\n  image: $[[ inputs.image ]]\n",
            "  script: echo $[[ component.version ]] $[[ component.reference ]]\n",
        );
        Ok(Component {
            project: parsed.project.clone(),
            sha: version.to_owned(),
            path: parsed.paths()[0].clone(),
            text: text.to_owned(),
            name: parsed.name.clone(),
            version: Some(version.to_owned()),
        })
    }

    fn template(&self, name: &str) -> Result<String, String> {
        match name {
            "Build.gitlab-ci.yml" => Ok("build:\n  script: make\n".to_owned()),
            _ => Err(format!("Included file `{name}` is empty or does not exist!")),
        }
    }

    fn remote(&self, url: &str) -> Result<String, String> {
        match url {
            "https://ci.example.com/ci.yml" => {
                Ok("include:\n  - template: Build.gitlab-ci.yml\n  - local: ci/x.yml\nremote:\n  script: x\n"
                    .to_owned())
            }
            _ => Err(format!("Remote file `{url}` could not be fetched because of HTTP code `404` error!")),
        }
    }
}

/// Makes a stack overflow a crash that libFuzzer saves the input of. Call it from the target's
/// `init`, which runs before libFuzzer installs its signal handlers.
///
/// Without a sanitizer nothing gives the main thread an alternate signal stack (the Rust
/// runtime that would is not started: libFuzzer owns `main`), so a SIGSEGV from an overflow
/// finds no stack to run its handler on and the process dies without saving the input. This
/// gives the thread one, and a SIGSEGV handler with `SA_ONSTACK` that raises SIGABRT; libFuzzer
/// keeps `SA_ONSTACK` on its own handler, calls this one, and handles the SIGABRT as any crash
/// ("deadly signal", input written to `crash-…`). Under a sanitizer, which has its own handler
/// and alternate stack, it does nothing.
pub fn report_stack_overflows() {
    const SIZE: usize = 256 * 1024;
    // SAFETY: the alternate stack is leaked, so it lives as long as the thread; the handler
    // only calls async-signal-safe functions (write, abort).
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut current), 0, "sigaction failed");
        if current.sa_sigaction != libc::SIG_DFL {
            return;
        }
        let stack: &'static mut [u8] = Box::leak(vec![0; SIZE].into_boxed_slice());
        let alternate = libc::stack_t { ss_sp: stack.as_mut_ptr().cast(), ss_flags: 0, ss_size: SIZE };
        assert_eq!(libc::sigaltstack(&alternate, std::ptr::null_mut()), 0, "sigaltstack failed");
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_segv as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut()), 0, "sigaction failed");
    }
}

extern "C" fn on_segv(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let message = b"\n==gantry-fuzz== SIGSEGV, most likely a stack overflow: aborting\n";
    // SAFETY: write and abort are async-signal-safe.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::abort();
    }
}
