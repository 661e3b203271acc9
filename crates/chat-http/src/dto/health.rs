//! Liveness and readiness answers.

use serde::Serialize;
use utoipa::ToSchema;

use crate::state::DependencyStatus;

/// `GET /health/live` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// One dependency in the readiness report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DependencyCheck {
    /// Its name (`database`, `redis`).
    pub name: String,
    /// Whether it answered.
    pub ok: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<DependencyStatus> for DependencyCheck {
    fn from(s: DependencyStatus) -> Self {
        Self {
            name: s.name,
            ok: s.ok,
            detail: s.detail,
        }
    }
}

/// `GET /health/ready` answer (with `200` or `503`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadinessReport {
    /// `ok` when every dependency answered, else `unavailable`.
    #[schema(example = "ok")]
    pub status: String,
    /// Every dependency checked.
    pub dependencies: Vec<DependencyCheck>,
}

impl ReadinessReport {
    /// The report over `statuses`.
    #[must_use]
    pub fn new(statuses: Vec<DependencyStatus>) -> Self {
        let ready = statuses.iter().all(|s| s.ok);
        Self {
            status: if ready { "ok" } else { "unavailable" }.to_owned(),
            dependencies: statuses.into_iter().map(DependencyCheck::from).collect(),
        }
    }

    /// Whether every dependency answered.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.dependencies.iter().all(|d| d.ok)
    }
}
