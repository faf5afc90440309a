//! The runner's own lines in a job log, in GitLab's format: colours, and the section markers
//! (`section_start:<unix time>:<name>\r\x1b[0K…`) by which log viewers fold the log.

use std::time::{SystemTime, UNIX_EPOCH};

const RESET: &str = "\x1b[0;m";
const CLEAR_LINE: &str = "\x1b[0K";

/// A colour of the log.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Colour {
    Bold,
    Green,
    Red,
    Yellow,
    Cyan,
}

/// `text` in `colour`.
pub(crate) fn coloured(colour: Colour, text: &str) -> String {
    let code = match colour {
        Colour::Bold => "\x1b[1m",
        Colour::Green => "\x1b[32;1m",
        Colour::Red => "\x1b[31;1m",
        Colour::Yellow => "\x1b[0;33m",
        Colour::Cyan => "\x1b[36;1m",
    };
    format!("{code}{text}{RESET}")
}

/// The line (without its newline) opening section `name`, showing `header`.
pub(crate) fn section_start(name: &str, header: &str) -> String {
    section_start_at(unix_now(), name, header)
}

/// The line (without its newline) closing section `name`.
pub(crate) fn section_end(name: &str) -> String {
    section_end_at(unix_now(), name)
}

fn section_start_at(time: u64, name: &str, header: &str) -> String {
    format!("section_start:{time}:{name}\r{CLEAR_LINE}{}", coloured(Colour::Cyan, header))
}

fn section_end_at(time: u64, name: &str) -> String {
    format!("section_end:{time}:{name}\r{CLEAR_LINE}")
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_use_gitlab_markers() {
        assert_eq!(
            section_start_at(1_700_000_000, "get_sources", "Getting source from Git repository"),
            "section_start:1700000000:get_sources\r\x1b[0K\x1b[36;1mGetting source from Git repository\x1b[0;m"
        );
        assert_eq!(section_end_at(1_700_000_001, "get_sources"), "section_end:1700000001:get_sources\r\x1b[0K");
    }
}
