//! How long a live run waits for each service: a connect timeout and a per-request timeout
//! for the sign-in endpoint and each service read, and a deadline for the whole run.
//!
//! The defaults (`--timeout`, `--connect-timeout` and `--deadline` change them):
//!
//! | service | connect | request |
//! |---|---:|---:|
//! | login (the token endpoint) | 10 s | 20 s |
//! | graph | 10 s | 60 s |
//! | teams | 10 s | 90 s |
//! | arm | 10 s | 30 s |
//! | dataverse | 10 s | 60 s |
//! | compliance | 10 s | 90 s |
//! | powerplatform | 10 s | 30 s |
//!
//! and 900 s for the whole run ([`DEFAULT_DEADLINE`]). The token endpoint answers in well under a
//! second when it is well; ARM and the Power Platform list are quick; Graph `$batch` and Dataverse
//! pages take a few seconds; the Teams admin API and S&C `InvokeCommand` (which starts a session)
//! are the slowest.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::endpoints::Service;

/// The whole live run, sign-in included (`--deadline`).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(900);
/// Shortest timeout or deadline accepted: anything shorter cannot even sign in.
pub const MIN_SECS: f64 = 0.1;
/// Longest timeout accepted (one hour).
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// Longest deadline accepted (one day).
pub const MAX_DEADLINE_SECS: f64 = 86_400.0;

/// What a timeout is for: the sign-in endpoint or one of the services read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Waited {
    Login,
    Service(Service),
}

impl Waited {
    pub const ALL: [Waited; 7] = [
        Waited::Login,
        Waited::Service(Service::Graph),
        Waited::Service(Service::Teams),
        Waited::Service(Service::Arm),
        Waited::Service(Service::Dataverse),
        Waited::Service(Service::Compliance),
        Waited::Service(Service::PowerPlatform),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Waited::Login => "login",
            Waited::Service(s) => s.as_str(),
        }
    }

    fn index(self) -> usize {
        Waited::ALL
            .iter()
            .position(|w| *w == self)
            .expect("ALL lists every service")
    }
}

impl fmt::Display for Waited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The connect and request timeouts of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeout {
    /// Until the TCP and TLS handshakes are done.
    pub connect: Duration,
    /// One request, from sending it until its whole response is read (connecting included).
    pub request: Duration,
}

/// The timeouts of every service.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeouts {
    by_service: [Timeout; 7],
}

impl Default for Timeouts {
    /// The documented defaults (module documentation).
    fn default() -> Timeouts {
        let t = |request: u64| Timeout {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(request),
        };
        Timeouts {
            // In the order of `Waited::ALL`.
            by_service: [t(20), t(60), t(90), t(30), t(60), t(90), t(30)],
        }
    }
}

impl Timeouts {
    /// The same timeouts for every service (tests).
    pub fn uniform(connect: Duration, request: Duration) -> Timeouts {
        Timeouts {
            by_service: [Timeout { connect, request }; 7],
        }
    }

    pub fn get(&self, waited: Waited) -> Timeout {
        self.by_service[waited.index()]
    }

    pub fn service(&self, service: Service) -> Timeout {
        self.get(Waited::Service(service))
    }

    pub fn login(&self) -> Timeout {
        self.get(Waited::Login)
    }

    /// Applies `--timeout` (`connect` false) or `--connect-timeout` values, in order: one
    /// without a service sets every service, a later one for a service overrides it.
    pub fn apply(&mut self, specs: &[TimeoutSpec], connect: bool) {
        for spec in specs {
            for (i, waited) in Waited::ALL.into_iter().enumerate() {
                if spec.service.is_none_or(|s| s == waited) {
                    let t = &mut self.by_service[i];
                    if connect {
                        t.connect = spec.duration;
                    } else {
                        t.request = spec.duration;
                    }
                }
            }
        }
    }
}

/// One `--timeout [SERVICE=]SECS` or `--connect-timeout [SERVICE=]SECS`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutSpec {
    /// `None`: every service.
    pub service: Option<Waited>,
    pub duration: Duration,
}

/// Why a `--timeout`, `--connect-timeout` or `--deadline` value is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeoutError {
    #[error(
        "unknown service `{0}`; use login, graph, teams, arm, dataverse, compliance or powerplatform (or no SERVICE= for all)"
    )]
    UnknownService(String),
    #[error("`{0}` is not a number of seconds")]
    NotSeconds(String),
    #[error("{given} s is out of range: use {MIN_SECS} to {max} seconds")]
    OutOfRange { given: String, max: f64 },
}

impl FromStr for TimeoutSpec {
    type Err = TimeoutError;

    /// `SECS` or `SERVICE=SECS`; usable as a clap `value_parser`.
    fn from_str(s: &str) -> Result<TimeoutSpec, TimeoutError> {
        let (service, secs) = match s.split_once('=') {
            Some((name, secs)) => {
                let name = name.trim();
                let service = Waited::ALL
                    .into_iter()
                    .find(|w| w.as_str().eq_ignore_ascii_case(name))
                    .ok_or_else(|| TimeoutError::UnknownService(name.to_string()))?;
                (Some(service), secs)
            }
            None => (None, s),
        };
        let duration = parse_secs(secs, MAX_TIMEOUT_SECS)?;
        Ok(TimeoutSpec { service, duration })
    }
}

/// Seconds, decimals allowed, between [`MIN_SECS`] and `max`.
pub fn parse_secs(s: &str, max: f64) -> Result<Duration, TimeoutError> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| TimeoutError::NotSeconds(s.trim().to_string()))?;
    if !(MIN_SECS..=max).contains(&secs) {
        return Err(TimeoutError::OutOfRange {
            given: s.trim().to_string(),
            max,
        });
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--deadline SECS` as a clap `value_parser`.
pub fn parse_deadline(s: &str) -> Result<Duration, TimeoutError> {
    parse_secs(s, MAX_DEADLINE_SECS)
}

/// Seconds as people write them: `20`, `1.5`, `0.25`.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        let text = format!("{s:.3}");
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let t = Timeouts::default();
        assert_eq!(t.login().request, Duration::from_secs(20));
        assert_eq!(t.service(Service::Graph).request, Duration::from_secs(60));
        assert_eq!(t.service(Service::Teams).request, Duration::from_secs(90));
        assert_eq!(t.service(Service::Arm).request, Duration::from_secs(30));
        assert_eq!(
            t.service(Service::Dataverse).request,
            Duration::from_secs(60)
        );
        assert_eq!(
            t.service(Service::Compliance).request,
            Duration::from_secs(90)
        );
        assert_eq!(
            t.service(Service::PowerPlatform).request,
            Duration::from_secs(30)
        );
        for w in Waited::ALL {
            assert_eq!(t.get(w).connect, Duration::from_secs(10), "{w}");
        }
        // The module documentation's table says the same.
        let doc = include_str!("timeouts.rs");
        for w in Waited::ALL {
            let row = format!(
                "| {} s | {} s |",
                secs(t.get(w).connect),
                secs(t.get(w).request)
            );
            let line = doc
                .lines()
                .find(|l| l.starts_with(&format!("//! | {}", w.as_str())))
                .unwrap_or_else(|| panic!("{w} has a row"));
            assert!(line.ends_with(&row), "{line} vs {row}");
        }
    }

    #[test]
    fn specs_apply_in_order_all_then_one() {
        let mut t = Timeouts::default();
        let specs: Vec<TimeoutSpec> = ["5", "graph=1.5", "LOGIN=2"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        t.apply(&specs, false);
        assert_eq!(t.service(Service::Teams).request, Duration::from_secs(5));
        assert_eq!(
            t.service(Service::Graph).request,
            Duration::from_millis(1500)
        );
        assert_eq!(t.login().request, Duration::from_secs(2));
        assert_eq!(t.login().connect, Duration::from_secs(10), "untouched");
        t.apply(&["arm=3".parse().unwrap()], true);
        assert_eq!(t.service(Service::Arm).connect, Duration::from_secs(3));
        assert_eq!(t.service(Service::Graph).connect, Duration::from_secs(10));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let err = |s: &str| s.parse::<TimeoutSpec>().unwrap_err().to_string();
        assert!(
            err("mail=3").contains("unknown service `mail`"),
            "{}",
            err("mail=3")
        );
        assert!(err("graph=soon").contains("not a number"));
        for bad in ["0", "-1", "1e300", "NaN", "inf", "3601", "0.01"] {
            assert!(
                err(bad).contains("out of range") || err(bad).contains("not a number"),
                "{bad}: {}",
                err(bad)
            );
        }
        assert!(parse_deadline("86401").is_err());
        assert_eq!(parse_deadline("2.5").unwrap(), Duration::from_millis(2500));
    }

    #[test]
    fn seconds_read_as_written() {
        assert_eq!(secs(Duration::from_secs(20)), "20");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5");
        assert_eq!(secs(Duration::from_millis(250)), "0.25");
    }
}
