//! Plan's vocabulary: the state of an issue.

use serde::{Deserialize, Serialize};

named_enum!(
    /// Whether an issue is open or closed (GitLab's names).
    IssueState {
        Opened = "opened",
        Closed = "closed",
    }
);
