//! Pass/fail criteria, as k6 has them: `--threshold 'transfers.p99<50ms'`,
//! `--threshold 'errors<0.1%'`, `--threshold 'bulk.item_rate>=20000'`. A run whose thresholds
//! do not all hold exits non-zero, so CI can gate a release on it.
//!
//! `[OPERATION.]METRIC COMPARISON VALUE`, where METRIC is
//!
//! | metric | meaning | value |
//! |---|---|---|
//! | `p50`, `p90`, `p99.9`, any `pN` | latency percentile of successful requests | with a unit: `250us`, `50ms`, `1.5s` |
//! | `max`, `avg` | latency maximum, mean | same |
//! | `errors` | failed requests (and, open model, dropped arrivals) over all | `0.1%` or `0.001` |
//! | `rate` | successful requests per second over the hold | a number |
//! | `item_rate` | units of work per second over the hold (transfers of a bulk request) | a number |
//! | `count` | successful requests | a number |
//!
//! Without an operation, a metric covers every operation of the run.

/// Which latency figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// A percentile, 0 to 100.
    Percentile(f64),
    /// The slowest request.
    Max,
    /// The mean.
    Mean,
}

/// What a threshold looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency figure, compared in milliseconds.
    Latency(Statistic),
    /// The share of failed requests, 0 to 1.
    ErrorRate,
    /// Successful requests per second over the hold.
    Rate,
    /// Units of work per second over the hold.
    ItemRate,
    /// Successful requests.
    Count,
}

/// How the figure compares with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
}

impl Comparison {
    fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Comparison::Less => actual < limit,
            Comparison::LessOrEqual => actual <= limit,
            Comparison::Greater => actual > limit,
            Comparison::GreaterOrEqual => actual >= limit,
        }
    }
}

/// One criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As the user wrote it.
    pub expression: String,
    /// The operation it is about; every operation when `None`.
    pub operation: Option<String>,
    /// The figure.
    pub metric: Metric,
    /// The comparison.
    pub comparison: Comparison,
    /// The limit: milliseconds for latencies, a fraction for errors, per second for rates.
    pub limit: f64,
}

/// The figures thresholds are evaluated against (implemented by the report).
pub trait Figures {
    /// A latency figure of `operation` (or of all), in milliseconds.
    fn latency_ms(&self, operation: Option<&str>, statistic: Statistic) -> Option<f64>;
    /// The share of failures of `operation` (or of all).
    fn error_rate(&self, operation: Option<&str>) -> Option<f64>;
    /// Successful requests per second over the hold.
    fn rate(&self, operation: Option<&str>) -> Option<f64>;
    /// Units of work per second over the hold.
    fn item_rate(&self, operation: Option<&str>) -> Option<f64>;
    /// Successful requests.
    fn count(&self, operation: Option<&str>) -> Option<f64>;
}

/// A threshold's verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// The expression.
    pub expression: String,
    /// The figure, in the threshold's unit; `None` when the run has no such figure.
    pub actual: Option<f64>,
    /// Whether it holds (a missing figure does not).
    pub passed: bool,
}

impl Threshold {
    /// Parses an expression.
    ///
    /// # Errors
    ///
    /// Saying what is wrong with it.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let compact: String = expression.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = |why: &str| format!("threshold {expression:?}: {why}");
        let at = compact
            .find(['<', '>'])
            .ok_or_else(|| bad("no comparison (<, <=, >, >=)"))?;
        let (left, right) = compact.split_at(at);
        let (comparison, value) = match right.split_at(1) {
            ("<", rest) => match rest.strip_prefix('=') {
                Some(value) => (Comparison::LessOrEqual, value),
                None => (Comparison::Less, rest),
            },
            (_, rest) => match rest.strip_prefix('=') {
                Some(value) => (Comparison::GreaterOrEqual, value),
                None => (Comparison::Greater, rest),
            },
        };
        let (operation, metric_name) = match left.split_once('.') {
            Some((op, metric)) if !op.is_empty() => (Some(op.to_owned()), metric),
            Some(_) => return Err(bad("an empty operation name")),
            None => (None, left),
        };
        let metric = parse_metric(metric_name).ok_or_else(|| {
            bad("the metric must be pN (p50, p99.9), max, avg, errors, rate, item_rate or count")
        })?;
        let limit = match metric {
            Metric::Latency(_) => parse_latency_ms(value),
            Metric::ErrorRate => parse_fraction(value),
            Metric::Rate | Metric::ItemRate | Metric::Count => {
                value.trim_end_matches("/s").parse::<f64>().ok()
            }
        }
        .filter(|v| v.is_finite())
        .ok_or_else(|| match metric {
            Metric::Latency(_) => bad("a latency needs a unit: 250us, 50ms, 1.5s"),
            Metric::ErrorRate => bad("an error rate is a percentage (0.1%) or a fraction"),
            _ => bad("the value is not a number"),
        })?;
        Ok(Self {
            expression: expression.to_owned(),
            operation,
            metric,
            comparison,
            limit,
        })
    }

    /// Evaluates the threshold against a run's figures.
    pub fn evaluate(&self, figures: &impl Figures) -> Verdict {
        let op = self.operation.as_deref();
        let actual = match self.metric {
            Metric::Latency(statistic) => figures.latency_ms(op, statistic),
            Metric::ErrorRate => figures.error_rate(op),
            Metric::Rate => figures.rate(op),
            Metric::ItemRate => figures.item_rate(op),
            Metric::Count => figures.count(op),
        };
        Verdict {
            expression: self.expression.clone(),
            actual,
            passed: actual.is_some_and(|a| self.comparison.holds(a, self.limit)),
        }
    }
}

fn parse_metric(name: &str) -> Option<Metric> {
    Some(match name {
        "max" => Metric::Latency(Statistic::Max),
        "avg" | "mean" => Metric::Latency(Statistic::Mean),
        "errors" => Metric::ErrorRate,
        "rate" => Metric::Rate,
        "item_rate" => Metric::ItemRate,
        "count" => Metric::Count,
        _ => {
            let percentile: f64 = name.strip_prefix('p')?.parse().ok()?;
            if !(percentile > 0.0 && percentile <= 100.0) {
                return None;
            }
            Metric::Latency(Statistic::Percentile(percentile))
        }
    })
}

fn parse_latency_ms(value: &str) -> Option<f64> {
    let split = value.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let number: f64 = value[..split].parse().ok()?;
    let ms_per_unit = match &value[split..] {
        "us" | "µs" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        _ => return None,
    };
    Some(number * ms_per_unit)
}

fn parse_fraction(value: &str) -> Option<f64> {
    match value.strip_suffix('%') {
        Some(percent) => percent.parse::<f64>().ok().map(|p| p / 100.0),
        None => value.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_parsed_into_operation_metric_and_limit() {
        let t = Threshold::parse("transfers.p99<50ms").unwrap();
        assert_eq!(t.operation.as_deref(), Some("transfers"));
        assert_eq!(t.metric, Metric::Latency(Statistic::Percentile(99.0)));
        assert_eq!((t.comparison, t.limit), (Comparison::Less, 50.0));
        let t = Threshold::parse("search.p99.9 <= 1.5s").unwrap();
        assert_eq!(t.metric, Metric::Latency(Statistic::Percentile(99.9)));
        assert_eq!((t.comparison, t.limit), (Comparison::LessOrEqual, 1500.0));
        let t = Threshold::parse("errors<0.1%").unwrap();
        assert_eq!((t.operation, t.metric), (None, Metric::ErrorRate));
        assert!((t.limit - 0.001).abs() < 1e-12);
        let t = Threshold::parse("bulk.item_rate>=20000").unwrap();
        assert_eq!(
            (t.metric, t.comparison),
            (Metric::ItemRate, Comparison::GreaterOrEqual)
        );
        assert_eq!(Threshold::parse("health.max<250us").unwrap().limit, 0.25);
        assert_eq!(Threshold::parse("rate>100/s").unwrap().limit, 100.0);
    }

    #[test]
    fn malformed_expressions_are_refused_with_a_reason() {
        for (bad, why) in [
            ("transfers.p99", "no comparison"),
            ("transfers.p99<50", "needs a unit"),
            ("transfers.p0<5ms", "the metric"),
            ("transfers.latency<5ms", "the metric"),
            ("errors<lots", "percentage"),
            (".p99<5ms", "empty operation"),
            ("rate>fast", "not a number"),
        ] {
            let err = Threshold::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    struct Fixed;

    impl Figures for Fixed {
        fn latency_ms(&self, op: Option<&str>, statistic: Statistic) -> Option<f64> {
            match (op, statistic) {
                (Some("transfers"), Statistic::Percentile(99.0)) => Some(42.0),
                (None, Statistic::Max) => Some(300.0),
                _ => None,
            }
        }
        fn error_rate(&self, op: Option<&str>) -> Option<f64> {
            op.is_none().then_some(0.002)
        }
        fn rate(&self, _: Option<&str>) -> Option<f64> {
            Some(1000.0)
        }
        fn item_rate(&self, _: Option<&str>) -> Option<f64> {
            None
        }
        fn count(&self, _: Option<&str>) -> Option<f64> {
            Some(10.0)
        }
    }

    #[test]
    fn thresholds_hold_or_fail_and_a_missing_figure_fails() {
        let verdict = |e: &str| Threshold::parse(e).unwrap().evaluate(&Fixed);
        for (expression, passed) in [
            ("transfers.p99<50ms", true),
            ("transfers.p99<40ms", false),
            ("max<=300ms", true),
            ("max<300ms", false),
            ("errors<0.1%", false),
            ("errors<0.5%", true),
            ("rate>999", true),
            ("count>=11", false),
            ("payments.p99<50ms", false),
            ("bulk.item_rate>1", false),
        ] {
            assert_eq!(verdict(expression).passed, passed, "{expression}");
        }
        assert_eq!(verdict("payments.p99<50ms").actual, None);
        assert_eq!(verdict("transfers.p99<50ms").actual, Some(42.0));
    }
}
