//! Stages of a run, as k6 has them: each stage moves the target (virtual users for the closed
//! model, arrivals per second for the open one) linearly from the previous stage's target to its
//! own over its duration, starting from zero. Ramp-up, hold, ramp-down is three stages.
//!
//! For the open model the schedule also says when each arrival is due: arrival `i` is due at the
//! moment the integral of the rate reaches `i`. Latency is measured from that moment, not from
//! when a worker got round to sending, so queueing in front of the server (or in the harness)
//! shows in the figures instead of silently lowering the rate (coordinated omission).

use std::time::Duration;

/// One stage: reach `target` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// Virtual users (closed model) or arrivals per second (open model) at the stage's end.
    pub target: f64,
}

/// What a stage does to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The target grows.
    RampUp,
    /// The target stays.
    Hold,
    /// The target shrinks.
    RampDown,
    /// After the last stage.
    Done,
}

impl Phase {
    /// A short name for the progress line and the report.
    pub fn name(self) -> &'static str {
        match self {
            Phase::RampUp => "ramp-up",
            Phase::Hold => "hold",
            Phase::RampDown => "ramp-down",
            Phase::Done => "done",
        }
    }
}

/// The stages of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    stages: Vec<Stage>,
}

impl Schedule {
    /// A schedule of `stages`.
    ///
    /// # Errors
    ///
    /// When there is no stage, a target is negative or not finite, or the total is zero.
    pub fn new(stages: Vec<Stage>) -> Result<Self, String> {
        if stages.is_empty() {
            return Err("a schedule needs at least one stage".to_owned());
        }
        if let Some(bad) = stages
            .iter()
            .find(|s| !s.target.is_finite() || s.target < 0.0)
        {
            return Err(format!("a stage's target must be >= 0, got {}", bad.target));
        }
        let schedule = Self { stages };
        if schedule.total().is_zero() {
            return Err("the stages last no time at all".to_owned());
        }
        Ok(schedule)
    }

    /// Ramp-up from zero to `target`, hold it, ramp down to zero. A zero-length ramp-up jumps
    /// to the target at once; a zero-length hold or ramp-down is left out.
    ///
    /// # Errors
    ///
    /// As [`Schedule::new`].
    pub fn ramp_hold(
        target: f64,
        ramp_up: Duration,
        hold: Duration,
        ramp_down: Duration,
    ) -> Result<Self, String> {
        let stages = [
            (ramp_up, target, true),
            (hold, target, false),
            (ramp_down, 0.0, false),
        ]
        .into_iter()
        .filter(|(duration, _, keep)| *keep || !duration.is_zero())
        .map(|(duration, target, _)| Stage { duration, target })
        .collect();
        Self::new(stages)
    }

    /// Parses k6-style stages: `5s:100,20s:100,5s:0`.
    ///
    /// # Errors
    ///
    /// Naming the stage that does not parse.
    pub fn parse(text: &str) -> Result<Self, String> {
        let stages = text
            .split(',')
            .map(|stage| {
                let (duration, target) = stage
                    .trim()
                    .split_once(':')
                    .ok_or_else(|| format!("stage {stage:?}: expected DURATION:TARGET"))?;
                Ok(Stage {
                    duration: parse_duration(duration)?,
                    target: target
                        .trim()
                        .parse()
                        .map_err(|_| format!("stage {stage:?}: {target:?} is not a number"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Self::new(stages)
    }

    /// The stages.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// How long the whole schedule lasts.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The highest target of any stage.
    pub fn max_target(&self) -> f64 {
        self.stages.iter().map(|s| s.target).fold(0.0, f64::max)
    }

    /// Each stage with the target it starts from and the time it starts at.
    fn spans(&self) -> impl Iterator<Item = (f64, f64, &Stage)> {
        let mut from = 0.0;
        let mut start = 0.0;
        self.stages.iter().map(move |stage| {
            let span = (from, start, stage);
            from = stage.target;
            start += stage.duration.as_secs_f64();
            span
        })
    }

    /// The target at `elapsed` into the run (the last target after the end).
    pub fn target_at(&self, elapsed: Duration) -> f64 {
        let t = elapsed.as_secs_f64();
        for (from, start, stage) in self.spans() {
            let length = stage.duration.as_secs_f64();
            if t < start + length {
                return from + (stage.target - from) * (t - start) / length;
            }
        }
        self.stages.last().map_or(0.0, |s| s.target)
    }

    /// What the run is doing at `elapsed`.
    pub fn phase_at(&self, elapsed: Duration) -> Phase {
        let t = elapsed.as_secs_f64();
        for (from, start, stage) in self.spans() {
            if t < start + stage.duration.as_secs_f64() {
                return match stage.target.total_cmp(&from) {
                    std::cmp::Ordering::Greater => Phase::RampUp,
                    std::cmp::Ordering::Equal => Phase::Hold,
                    std::cmp::Ordering::Less => Phase::RampDown,
                };
            }
        }
        Phase::Done
    }

    /// The window steady rates are measured over, in seconds from the start: from the start of the
    /// first stage that holds the highest target to the end of the last one; the whole run when
    /// no stage holds it.
    pub fn steady_window(&self) -> (f64, f64) {
        let max = self.max_target();
        let held: Vec<(f64, f64)> = self
            .spans()
            .filter(|(from, _, stage)| *from == max && stage.target == max)
            .map(|(_, start, stage)| (start, start + stage.duration.as_secs_f64()))
            .collect();
        match (held.first(), held.last()) {
            (Some(first), Some(last)) => (first.0, last.1),
            _ => (0.0, self.total().as_secs_f64()),
        }
    }

    /// Arrivals due over the whole schedule (open model): the integral of the rate.
    pub fn total_arrivals(&self) -> f64 {
        self.spans()
            .map(|(from, _, stage)| (from + stage.target) / 2.0 * stage.duration.as_secs_f64())
            .sum()
    }

    /// When arrival `index` (from 0) is due, from the start; `None` past the schedule's end.
    ///
    /// Within a stage the rate is `r(τ) = a + (b - a) τ / D`, so the arrivals since its start are
    /// `a τ + k τ²` with `k = (b - a) / 2D`; arrival `x` into the stage is at
    /// `τ = 2x / (a + sqrt(a² + 4kx))`, a form that stays exact when `k` is zero or negative.
    pub fn arrival_time(&self, index: u64) -> Option<Duration> {
        let mut remaining = index as f64;
        for (from, start, stage) in self.spans() {
            let length = stage.duration.as_secs_f64();
            let in_stage = (from + stage.target) / 2.0 * length;
            if remaining < in_stage {
                let k = (stage.target - from) / (2.0 * length);
                let root = (from * from + 4.0 * k * remaining).max(0.0).sqrt();
                let tau = if remaining == 0.0 {
                    0.0
                } else {
                    2.0 * remaining / (from + root)
                };
                return Some(Duration::from_secs_f64(start + tau.min(length)));
            }
            remaining -= in_stage;
        }
        None
    }
}

/// Parses `500ms`, `20s`, `1.5s`, `2m`, `1m30s`, `250us`.
///
/// # Errors
///
/// When the text is not a sum of numbers with units.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a duration (500ms, 20s, 1m30s)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn durations_are_parsed_with_their_units() {
        assert_eq!(parse_duration("500ms").unwrap(), secs(0.5));
        assert_eq!(parse_duration("20s").unwrap(), secs(20.0));
        assert_eq!(parse_duration("1m30s").unwrap(), secs(90.0));
        assert_eq!(parse_duration("1.5s").unwrap(), secs(1.5));
        assert_eq!(parse_duration("250us").unwrap(), secs(0.000_25));
        for bad in ["", "20", "s", "3 weeks", "1x"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stages_ramp_linearly_from_the_previous_target() {
        let schedule = Schedule::parse("10s:100, 20s:100, 10s:0").unwrap();
        assert_eq!(schedule.total(), secs(40.0));
        assert_eq!(schedule.max_target(), 100.0);
        assert_eq!(schedule.target_at(secs(0.0)), 0.0);
        assert_eq!(schedule.target_at(secs(5.0)), 50.0);
        assert_eq!(schedule.target_at(secs(15.0)), 100.0);
        assert_eq!(schedule.target_at(secs(35.0)), 50.0);
        assert_eq!(schedule.target_at(secs(99.0)), 0.0);
        assert_eq!(schedule.phase_at(secs(1.0)), Phase::RampUp);
        assert_eq!(schedule.phase_at(secs(11.0)), Phase::Hold);
        assert_eq!(schedule.phase_at(secs(31.0)), Phase::RampDown);
        assert_eq!(schedule.phase_at(secs(40.0)), Phase::Done);
        assert_eq!(schedule.steady_window(), (10.0, 30.0));
        assert!(Schedule::parse("10s").is_err());
        assert!(Schedule::parse("10s:-1").is_err());
        assert!(Schedule::parse("0s:10").is_err());
    }

    #[test]
    fn a_zero_ramp_up_jumps_to_the_target_and_a_run_without_hold_is_steady_throughout() {
        let schedule = Schedule::ramp_hold(8.0, Duration::ZERO, secs(5.0), Duration::ZERO).unwrap();
        assert_eq!(schedule.stages().len(), 2);
        assert_eq!(schedule.target_at(secs(0.0)), 8.0);
        assert_eq!(schedule.phase_at(secs(1.0)), Phase::Hold);
        assert_eq!(schedule.steady_window(), (0.0, 5.0));
        assert_eq!(schedule.arrival_time(8), Some(secs(1.0)));
        // Starting from zero, a first stage with a length ramps up.
        let ramps = Schedule::parse("5s:10,5s:0").unwrap();
        assert_eq!(ramps.phase_at(secs(1.0)), Phase::RampUp);
        assert_eq!(ramps.steady_window(), (0.0, 10.0));
    }

    #[test]
    fn arrivals_at_a_constant_rate_are_evenly_spaced_and_stop_at_the_end() {
        let schedule = Schedule::parse("0s:100,1s:100").unwrap();
        assert_eq!(schedule.total_arrivals(), 100.0);
        assert_eq!(schedule.arrival_time(0), Some(secs(0.0)));
        assert_eq!(schedule.arrival_time(1), Some(secs(0.01)));
        let last = schedule.arrival_time(99).unwrap().as_secs_f64();
        assert!((last - 0.99).abs() < 1e-9, "{last}");
        assert_eq!(schedule.arrival_time(100), None);
    }

    #[test]
    fn arrivals_follow_the_integral_of_a_ramping_rate() {
        // 0 -> 100/s over 2 s: 100 arrivals, arrival i at sqrt(i / 25) s; 1 s at 100/s: 100
        // more; 100/s -> 0 over 1 s: 50 more.
        let schedule = Schedule::parse("2s:100,1s:100,1s:0").unwrap();
        assert_eq!(schedule.total_arrivals(), 250.0);
        for (index, expected) in [(0, 0.0), (25, 1.0), (64, 1.6), (100, 2.0), (175, 2.75)] {
            let at = schedule.arrival_time(index).unwrap().as_secs_f64();
            assert!(
                (at - expected).abs() < 1e-9,
                "arrival {index}: {at} != {expected}"
            );
        }
        // Half of the ramp-down's 50 arrivals come in its first 1 - 1/sqrt(2) s, the rate being
        // highest at its start.
        let at = schedule.arrival_time(225).unwrap().as_secs_f64();
        assert!((at - (3.0 + 1.0 - 0.5_f64.sqrt())).abs() < 1e-9, "{at}");
        assert_eq!(schedule.arrival_time(250), None);
        let mut previous = Duration::ZERO;
        for index in 0..250 {
            let at = schedule.arrival_time(index).unwrap();
            assert!(at >= previous, "arrivals are in order");
            previous = at;
        }
    }
}
