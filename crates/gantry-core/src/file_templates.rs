//! The file templates every project is offered, as GitLab offers them: `.gitlab-ci.yml` files
//! for common stacks, `.gitignore` files, Dockerfiles and open-source licenses. The texts live
//! in `crates/gantry-core/file_templates/` and are compiled into the binary (nothing is read at
//! run time); a license is filled in with the year, the project's name and the copyright holder
//! as GitLab fills it.
//!
//! Long because it is the catalogue: one line per template, with the licenses' descriptions.

use std::sync::LazyLock;

use regex::{NoExpand, Regex};

/// The kinds of template, by the names of GitLab's API (`/templates/:type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateType {
    GitlabCiYml,
    Gitignore,
    Dockerfile,
    License,
}

impl TemplateType {
    pub const ALL: [TemplateType; 4] =
        [TemplateType::GitlabCiYml, TemplateType::Gitignore, TemplateType::Dockerfile, TemplateType::License];

    /// The type named in a URL (`gitlab_ci_ymls`, `gitignores`, `dockerfiles`, `licenses`).
    pub fn from_api_name(name: &str) -> Option<TemplateType> {
        TemplateType::ALL.into_iter().find(|kind| kind.api_name() == name)
    }

    pub fn api_name(self) -> &'static str {
        match self {
            TemplateType::GitlabCiYml => "gitlab_ci_ymls",
            TemplateType::Gitignore => "gitignores",
            TemplateType::Dockerfile => "dockerfiles",
            TemplateType::License => "licenses",
        }
    }

    /// The file a template of this type usually becomes.
    pub fn file_name(self) -> &'static str {
        match self {
            TemplateType::GitlabCiYml => ".gitlab-ci.yml",
            TemplateType::Gitignore => ".gitignore",
            TemplateType::Dockerfile => "Dockerfile",
            TemplateType::License => "LICENSE",
        }
    }

    /// What a missing template is called in a 404 (GitLab's words).
    pub fn singular(self) -> &'static str {
        match self {
            TemplateType::GitlabCiYml => "Gitlab Ci Yml",
            TemplateType::Gitignore => "Gitignore",
            TemplateType::Dockerfile => "Dockerfile",
            TemplateType::License => "License",
        }
    }
}

/// A `.gitlab-ci.yml`, `.gitignore` or Dockerfile template. Its key is its name, as in GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTemplate {
    pub key: &'static str,
    /// The group it is listed under when choosing one (GitLab's categories: `General`,
    /// `Pages`, `Languages`, `Frameworks`, `Global`).
    pub category: &'static str,
    pub content: &'static str,
}

/// One template of every kind by key and name, for lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateName {
    pub key: &'static str,
    pub name: &'static str,
    pub category: &'static str,
}

/// An open-source license with what choosealicense.com says of it (the metadata GitLab shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct License {
    /// Lowercase SPDX identifier (`mit`, `apache-2.0`).
    pub key: &'static str,
    pub spdx_id: &'static str,
    pub name: &'static str,
    pub nickname: Option<&'static str>,
    /// Among the few GitLab suggests first.
    pub popular: bool,
    pub description: &'static str,
    pub conditions: &'static [&'static str],
    pub permissions: &'static [&'static str],
    pub limitations: &'static [&'static str],
    /// The standard text, with the placeholders GitLab fills (`[year]`, `[fullname]`, …).
    pub content: &'static str,
}

impl License {
    pub fn html_url(&self) -> String {
        format!("https://choosealicense.com/licenses/{}/", self.key)
    }

    pub fn source_url(&self) -> String {
        format!("https://spdx.org/licenses/{}.html", self.spdx_id)
    }

    /// The text with the year, the project and the copyright holder filled in (those not
    /// given stay placeholders).
    pub fn filled(&self, year: i16, project: Option<&str>, fullname: Option<&str>) -> String {
        fill_license(self.content, year, project, fullname)
    }

    /// The text filled in with this year (UTC).
    pub fn filled_this_year(&self, project: Option<&str>, fullname: Option<&str>) -> String {
        let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
        self.filled(year, project, fullname)
    }
}

macro_rules! file_templates {
    ($dir:literal, $extension:literal, [$(($key:literal, $category:literal)),* $(,)?]) => {
        &[$(FileTemplate {
            key: $key,
            category: $category,
            content: include_str!(concat!("../file_templates/", $dir, "/", $key, $extension)),
        }),*]
    };
}

/// Each `.gitlab-ci.yml` template parses and plans under Gantry's own CI reader (a test holds
/// them to it).
static GITLAB_CI_YMLS: &[FileTemplate] = file_templates!(
    "gitlab_ci_ymls",
    ".gitlab-ci.yml",
    [
        ("Getting-Started", "General"),
        ("Bash", "General"),
        ("C++", "General"),
        ("Clojure", "General"),
        ("Crystal", "General"),
        ("Deno", "General"),
        ("Django", "General"),
        ("Docker", "General"),
        ("dotNET-Core", "General"),
        ("Elixir", "General"),
        ("Flutter", "General"),
        ("Go", "General"),
        ("Gradle", "General"),
        ("Haskell", "General"),
        ("Julia", "General"),
        ("LaTeX", "General"),
        ("Laravel", "General"),
        ("Maven", "General"),
        ("Nodejs", "General"),
        ("PHP", "General"),
        ("Python", "General"),
        ("Ruby", "General"),
        ("Rust", "General"),
        ("Scala", "General"),
        ("Swift", "General"),
        ("Terraform", "General"),
        ("HTML", "Pages"),
        ("Hugo", "Pages"),
        ("Jekyll", "Pages"),
        ("mdBook", "Pages"),
        ("MkDocs", "Pages"),
    ]
);

static GITIGNORES: &[FileTemplate] = file_templates!(
    "gitignores",
    ".gitignore",
    [
        ("Android", "Languages"),
        ("C", "Languages"),
        ("C++", "Languages"),
        ("Dart", "Languages"),
        ("Elixir", "Languages"),
        ("Go", "Languages"),
        ("Haskell", "Languages"),
        ("Java", "Languages"),
        ("Julia", "Languages"),
        ("Kotlin", "Languages"),
        ("Node", "Languages"),
        ("Python", "Languages"),
        ("Ruby", "Languages"),
        ("Rust", "Languages"),
        ("Scala", "Languages"),
        ("Swift", "Languages"),
        ("TeX", "Languages"),
        ("Terraform", "Languages"),
        ("Flutter", "Frameworks"),
        ("Gradle", "Frameworks"),
        ("Hugo", "Frameworks"),
        ("Jekyll", "Frameworks"),
        ("Laravel", "Frameworks"),
        ("Maven", "Frameworks"),
        ("Rails", "Frameworks"),
        ("Unity", "Frameworks"),
        ("VisualStudio", "Frameworks"),
        ("Emacs", "Global"),
        ("JetBrains", "Global"),
        ("Linux", "Global"),
        ("macOS", "Global"),
        ("Vim", "Global"),
        ("VisualStudioCode", "Global"),
        ("Windows", "Global"),
    ]
);

static DOCKERFILES: &[FileTemplate] = file_templates!(
    "dockerfiles",
    ".Dockerfile",
    [
        ("Binary", "General"),
        ("Binary-alpine", "General"),
        ("Binary-scratch", "General"),
        ("Golang", "General"),
        ("Golang-alpine", "General"),
        ("HTTPd", "General"),
        ("Nginx", "General"),
        ("Node", "General"),
        ("Node-alpine", "General"),
        ("OpenJDK", "General"),
        ("PHP", "General"),
        ("Python", "General"),
        ("Python-alpine", "General"),
        ("Ruby", "General"),
        ("Rust", "General"),
    ]
);

const PERMISSIVE: &[&str] = &["commercial-use", "modifications", "distribution", "private-use"];
const PERMISSIVE_WITH_PATENTS: &[&str] =
    &["commercial-use", "modifications", "distribution", "patent-use", "private-use"];
const NO_LIABILITY_OR_WARRANTY: &[&str] = &["liability", "warranty"];

macro_rules! license_text {
    ($key:literal) => {
        include_str!(concat!("../file_templates/licenses/", $key, ".txt"))
    };
}

/// The licenses, their texts reproduced exactly from their stewards' published versions.
static LICENSES: &[License] = &[
    License {
        key: "0bsd",
        spdx_id: "0BSD",
        name: "BSD Zero Clause License",
        nickname: None,
        popular: false,
        description: "A public-domain-like permissive license: anyone may do anything with the work, \
                      without even keeping the copyright notice.",
        conditions: &[],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("0bsd"),
    },
    License {
        key: "agpl-3.0",
        spdx_id: "AGPL-3.0",
        name: "GNU Affero General Public License v3.0",
        nickname: Some("GNU AGPLv3"),
        popular: false,
        description: "The strongest copyleft: like the GPL v3, and whoever lets users interact with a \
                      modified version over a network must offer them its source code too.",
        conditions: &[
            "include-copyright",
            "document-changes",
            "disclose-source",
            "network-use-disclose",
            "same-license",
        ],
        permissions: PERMISSIVE_WITH_PATENTS,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("agpl-3.0"),
    },
    License {
        key: "apache-2.0",
        spdx_id: "Apache-2.0",
        name: "Apache License 2.0",
        nickname: None,
        popular: true,
        description: "A permissive license that also grants the contributors' patent rights, and asks \
                      that changed files say so and that the NOTICE file travel with the work.",
        conditions: &["include-copyright", "document-changes"],
        permissions: PERMISSIVE_WITH_PATENTS,
        limitations: &["trademark-use", "liability", "warranty"],
        content: license_text!("apache-2.0"),
    },
    License {
        key: "bsd-2-clause",
        spdx_id: "BSD-2-Clause",
        name: "BSD 2-Clause \"Simplified\" License",
        nickname: None,
        popular: false,
        description: "A short permissive license, close to MIT: keep the copyright notice and the \
                      disclaimer, in source and in binary form.",
        conditions: &["include-copyright"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("bsd-2-clause"),
    },
    License {
        key: "bsd-3-clause",
        spdx_id: "BSD-3-Clause",
        name: "BSD 3-Clause \"New\" or \"Revised\" License",
        nickname: None,
        popular: false,
        description: "The BSD 2-Clause license with a third clause: the names of the project and its \
                      contributors may not promote derived products without permission.",
        conditions: &["include-copyright"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("bsd-3-clause"),
    },
    License {
        key: "bsl-1.0",
        spdx_id: "BSL-1.0",
        name: "Boost Software License 1.0",
        nickname: None,
        popular: false,
        description: "A permissive license that asks for the copyright and license notices in \
                      source distributions only, not in compiled binaries.",
        conditions: &["include-copyright--source"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("bsl-1.0"),
    },
    License {
        key: "cc0-1.0",
        spdx_id: "CC0-1.0",
        name: "Creative Commons Zero v1.0 Universal",
        nickname: None,
        popular: false,
        description: "Gives up every copyright in the work, as far as the law allows, and licenses \
                      what cannot be given up with no conditions. Grants no patent or trademark \
                      rights.",
        conditions: &[],
        permissions: PERMISSIVE,
        limitations: &["liability", "trademark-use", "patent-use", "warranty"],
        content: license_text!("cc0-1.0"),
    },
    License {
        key: "gpl-2.0",
        spdx_id: "GPL-2.0",
        name: "GNU General Public License v2.0",
        nickname: Some("GNU GPLv2"),
        popular: false,
        description: "The classic copyleft: whoever distributes the work or a derived work must \
                      make its complete source code available under the same license.",
        conditions: &["include-copyright", "document-changes", "disclose-source", "same-license"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("gpl-2.0"),
    },
    License {
        key: "gpl-3.0",
        spdx_id: "GPL-3.0",
        name: "GNU General Public License v3.0",
        nickname: Some("GNU GPLv3"),
        popular: true,
        description: "A strong copyleft: whoever distributes the work or a larger work built on it \
                      must make the complete source code available under the same license; \
                      contributors grant their patent rights.",
        conditions: &["include-copyright", "document-changes", "disclose-source", "same-license"],
        permissions: PERMISSIVE_WITH_PATENTS,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("gpl-3.0"),
    },
    License {
        key: "isc",
        spdx_id: "ISC",
        name: "ISC License",
        nickname: None,
        popular: false,
        description: "A short permissive license, equivalent to MIT and BSD 2-Clause in fewer words.",
        conditions: &["include-copyright"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("isc"),
    },
    License {
        key: "lgpl-2.1",
        spdx_id: "LGPL-2.1",
        name: "GNU Lesser General Public License v2.1",
        nickname: Some("GNU LGPLv2.1"),
        popular: false,
        description: "A weaker copyleft for libraries: changes to the library stay under the same \
                      license, while programs that only use it may be under any terms.",
        conditions: &["include-copyright", "disclose-source", "document-changes", "same-license--library"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("lgpl-2.1"),
    },
    License {
        key: "lgpl-3.0",
        spdx_id: "LGPL-3.0",
        name: "GNU Lesser General Public License v3.0",
        nickname: Some("GNU LGPLv3"),
        popular: false,
        description: "The GPL v3 with extra permissions for libraries: programs that only use the \
                      library may be under any terms. Its text is read with the GPL v3's.",
        conditions: &["include-copyright", "disclose-source", "document-changes", "same-license--library"],
        permissions: PERMISSIVE_WITH_PATENTS,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("lgpl-3.0"),
    },
    License {
        key: "mit",
        spdx_id: "MIT",
        name: "MIT License",
        nickname: None,
        popular: true,
        description: "A short permissive license: anyone may do anything with the work as long as \
                      the copyright and license notice stay with it; no warranty.",
        conditions: &["include-copyright"],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("mit"),
    },
    License {
        key: "mpl-2.0",
        spdx_id: "MPL-2.0",
        name: "Mozilla Public License 2.0",
        nickname: None,
        popular: false,
        description: "A copyleft by file: changed files stay under the MPL and their source must be \
                      offered, while the larger work may be under other terms; contributors \
                      grant their patent rights.",
        conditions: &["disclose-source", "include-copyright", "same-license--file"],
        permissions: PERMISSIVE_WITH_PATENTS,
        limitations: &["liability", "trademark-use", "warranty"],
        content: license_text!("mpl-2.0"),
    },
    License {
        key: "unlicense",
        spdx_id: "Unlicense",
        name: "The Unlicense",
        nickname: None,
        popular: false,
        description: "Dedicates the work to the public domain, with a permissive fallback where \
                      that is not possible; no conditions at all.",
        conditions: &[],
        permissions: PERMISSIVE,
        limitations: NO_LIABILITY_OR_WARRANTY,
        content: license_text!("unlicense"),
    },
];

/// The templates of a kind other than licenses.
fn file_templates(kind: TemplateType) -> &'static [FileTemplate] {
    match kind {
        TemplateType::GitlabCiYml => GITLAB_CI_YMLS,
        TemplateType::Gitignore => GITIGNORES,
        TemplateType::Dockerfile => DOCKERFILES,
        TemplateType::License => &[],
    }
}

/// Every template of a kind, by key and name: by category (in the order above), then by name
/// regardless of case.
pub fn names(kind: TemplateType) -> Vec<TemplateName> {
    if kind == TemplateType::License {
        return licenses(false)
            .into_iter()
            .map(|license| TemplateName { key: license.key, name: license.name, category: "" })
            .collect();
    }
    let templates = file_templates(kind);
    let mut categories: Vec<&str> = Vec::new();
    for template in templates {
        if !categories.contains(&template.category) {
            categories.push(template.category);
        }
    }
    let mut names: Vec<TemplateName> =
        templates.iter().map(|t| TemplateName { key: t.key, name: t.key, category: t.category }).collect();
    names.sort_by_key(|n| (categories.iter().position(|c| *c == n.category), n.name.to_lowercase()));
    names
}

/// A `.gitlab-ci.yml`, `.gitignore` or Dockerfile template by key (exactly, or else ignoring
/// case).
pub fn find(kind: TemplateType, key: &str) -> Option<&'static FileTemplate> {
    let templates = file_templates(kind);
    templates.iter().find(|t| t.key == key).or_else(|| templates.iter().find(|t| t.key.eq_ignore_ascii_case(key)))
}

/// The licenses by name; only the popular ones when asked.
pub fn licenses(popular_only: bool) -> Vec<&'static License> {
    let mut licenses: Vec<&License> = LICENSES.iter().filter(|l| l.popular || !popular_only).collect();
    licenses.sort_by_key(|l| l.name.to_lowercase());
    licenses
}

/// A license by key (its SPDX identifier, in any case).
pub fn license(key: &str) -> Option<&'static License> {
    LICENSES.iter().find(|l| l.key.eq_ignore_ascii_case(key) || l.spdx_id.eq_ignore_ascii_case(key))
}

/// GitLab's placeholders: the year, the project (or a one-line description of it), and the
/// copyright holder, in `[…]`, `<…>` or `{…}`.
static YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)[<{\[](year|yyyy)[>}\]]").expect("a valid pattern"));
static PROJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[<{\[](project|description|one\sline\s.+\swhat\sit\sdoes\.)[>}\]]").expect("a valid pattern")
});
static FULLNAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[<{\[](fullname|name\sof\s(author|copyright\sowner))[>}\]]").expect("a valid pattern")
});

/// Fills a license's placeholders; what is given is put in literally (a `$` stays a `$`).
pub fn fill_license(text: &str, year: i16, project: Option<&str>, fullname: Option<&str>) -> String {
    let mut filled = YEAR.replace_all(text, NoExpand(&year.to_string())).into_owned();
    if let Some(project) = project.filter(|p| !p.is_empty()) {
        filled = PROJECT.replace_all(&filled, NoExpand(project)).into_owned();
    }
    if let Some(fullname) = fullname.filter(|f| !f.is_empty()) {
        filled = FULLNAME.replace_all(&filled, NoExpand(fullname)).into_owned();
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoIncludes;

    impl gantry_ci::Files for NoIncludes {
        fn read(&self, _: Option<&str>, _: Option<&str>, path: &str) -> Result<String, String> {
            Err(format!("`{path}` is not available to a template"))
        }
    }

    #[test]
    fn every_ci_template_is_valid_and_plans_jobs_on_the_default_branch() {
        let variables: Vec<(String, String)> = [
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_DEFAULT_BRANCH", "main"),
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_PROJECT_PATH", "acme/app"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        let files = ["Dockerfile", "package.json", "Cargo.toml"].map(str::to_owned);
        assert!(GITLAB_CI_YMLS.len() > 25, "GitLab's clients expect more than a page of 20");
        for template in GITLAB_CI_YMLS {
            let config = gantry_ci::load(&NoIncludes, ".gitlab-ci.yml", template.content)
                .unwrap_or_else(|errors| panic!("{}:\n{errors}", template.key));
            let facts = gantry_ci::Facts { variables: &variables, changed_paths: None, files: &files };
            let plan = gantry_ci::plan(&config, &facts)
                .unwrap_or_else(|errors| panic!("{}:\n{errors}", template.key))
                .unwrap_or_else(|nothing| panic!("{}: no pipeline ({nothing:?})", template.key));
            assert!(!plan.jobs.is_empty(), "{}", template.key);
            assert!(template.content.starts_with("# "), "{} says what it is for first", template.key);
        }
    }

    #[test]
    fn keys_are_unique_and_found_in_any_case() {
        for kind in TemplateType::ALL {
            let names = names(kind);
            let mut keys: Vec<String> = names.iter().map(|n| n.key.to_lowercase()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), names.len(), "{kind:?}");
            assert_eq!(TemplateType::from_api_name(kind.api_name()), Some(kind));
        }
        assert_eq!(find(TemplateType::GitlabCiYml, "Nodejs").map(|t| t.key), Some("Nodejs"));
        assert_eq!(find(TemplateType::Gitignore, "node").map(|t| t.key), Some("Node"));
        assert_eq!(find(TemplateType::Dockerfile, "Node").map(|t| t.key), Some("Node"));
        assert!(find(TemplateType::Dockerfile, "../licenses/mit").is_none());
        assert_eq!(license("BSD-2-Clause").map(|l| l.key), Some("bsd-2-clause"));
        assert!(license("proprietary").is_none());
        assert_eq!(names(TemplateType::GitlabCiYml)[0].category, "General");
        assert_eq!(names(TemplateType::GitlabCiYml).last().map(|n| n.category), Some("Pages"));
    }

    #[test]
    fn licenses_are_filled_as_gitlab_fills_them() {
        let bsd = license("bsd-3-clause").unwrap();
        let text = bsd.filled(2031, Some("Gantry"), Some("Ada $1 Lovelace"));
        assert!(text.contains("Copyright (c) 2031, Ada $1 Lovelace"), "{text}");
        assert!(text.contains("Neither the name of Gantry nor"), "{text}");
        let untouched = bsd.filled(2031, None, None);
        assert!(untouched.contains("[fullname]") && untouched.contains("[project]"));

        let gpl = license("gpl-3.0").unwrap().filled(2031, Some("gantry: a forge"), Some("Ada"));
        assert!(gpl.contains("    gantry: a forge\n    Copyright (C) 2031  Ada\n"), "{gpl}");
        let apache = license("apache-2.0").unwrap().filled(2031, None, Some("Ada"));
        assert!(apache.contains("Copyright 2031 Ada"), "{apache}");
    }

    #[test]
    fn only_the_popular_licenses_when_asked() {
        let popular: Vec<&str> = licenses(true).iter().map(|l| l.key).collect();
        assert_eq!(popular, ["apache-2.0", "gpl-3.0", "mit"]);
        assert!(licenses(false).len() >= 15);
        for license in licenses(false) {
            assert!(license.content.len() > 500, "{} has its full text", license.key);
        }
    }
}
