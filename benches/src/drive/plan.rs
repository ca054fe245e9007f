//! What one run of the load generator is asked to do, from its command line.

use std::time::Duration;

/// The workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Every client places orders (`tok_visa`, one unit, round robin over the SKUs).
    Place,
    /// Orders are placed first (`--seed-orders`), then every client reads them through
    /// GraphQL: an order by id, and every fifth read a page of the customer's orders.
    Read,
    /// Half the clients place orders with the faults of [`Plan::faults`], half read.
    Mixed,
}

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The server's base URL (ignored by `--smoke`, which starts its own).
    pub url: String,
    /// A bearer token of an operator (registers the SKUs, reads the projections' lag).
    pub operator: String,
    /// A bearer token of a customer with no earlier orders: every order of the run is
    /// theirs, and the checks read all of the customer's orders.
    pub customer: String,
    pub scenario: Scenario,
    pub clients: usize,
    /// How long the clients place or read.
    pub seconds: f64,
    /// Plentiful SKUs the orders spread over (one: a hot SKU).
    pub skus: usize,
    /// Orders placed before a `read` run.
    pub seed_orders: usize,
    /// Orders take every path fulfilment has: declined and flaky payments, an SKU with
    /// too little stock, customers cancelling right after placing.
    pub faults: bool,
    /// Some payments never answer (`tok_timeout`): only with a short payment deadline.
    pub timeouts: bool,
    /// How long to wait for every order to be final and the checks to hold.
    pub wait: Duration,
    /// Start a server of its own (in this process, over real HTTP, on a database of its
    /// own) and run a few seconds of every path: the correctness check of CI.
    pub smoke: bool,
    /// A 503 on placing an order is the server asking to come back later (fulfilment too far
    /// behind): the order is placed again after a pause. Off for `--smoke`, where nothing
    /// should be behind: there a 503 is a broken promise.
    pub tolerate_busy: bool,
}

impl Plan {
    /// The run the command line asks for.
    ///
    /// # Errors
    /// An unknown argument, a missing value or a missing token.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut plan = Self {
            url: "http://127.0.0.1:8080".into(),
            operator: String::new(),
            customer: String::new(),
            scenario: Scenario::Place,
            clients: 16,
            seconds: 10.0,
            skus: 200,
            seed_orders: 200,
            faults: false,
            timeouts: false,
            wait: Duration::from_secs(300),
            smoke: false,
            tolerate_busy: true,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} takes a value"));
            let count = |text: String| text.parse::<usize>().map_err(|e| format!("{text}: {e}"));
            match arg.as_str() {
                "--url" => plan.url = value()?,
                "--operator" => plan.operator = value()?,
                "--customer" => plan.customer = value()?,
                "--scenario" => {
                    plan.scenario = match value()?.as_str() {
                        "place" => Scenario::Place,
                        "read" => Scenario::Read,
                        "mixed" => Scenario::Mixed,
                        other => return Err(format!("unknown scenario {other:?}")),
                    };
                }
                "--clients" => plan.clients = count(value()?)?.max(1),
                "--seconds" => {
                    let text = value()?;
                    plan.seconds = text
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .ok_or(format!("--seconds {text}: a positive number"))?;
                }
                "--skus" => plan.skus = count(value()?)?.max(1),
                "--hot" => plan.skus = 1,
                "--seed-orders" => plan.seed_orders = count(value()?)?.max(1),
                "--faults" => plan.faults = true,
                "--wait" => {
                    let text = value()?;
                    plan.wait = Duration::from_secs(
                        text.parse().map_err(|e| format!("--wait {text}: {e}"))?,
                    );
                }
                "--smoke" => plan.smoke = true,
                other => return Err(format!("unknown argument {other:?}; see the file's header")),
            }
        }
        if plan.scenario == Scenario::Mixed {
            plan.faults = true;
        }
        if plan.smoke {
            plan.scenario = Scenario::Mixed;
            plan.faults = true;
            plan.timeouts = true;
            plan.tolerate_busy = false;
            plan.clients = plan.clients.min(4);
            plan.seconds = plan.seconds.min(3.0);
            plan.skus = plan.skus.min(8);
            plan.wait = plan.wait.min(Duration::from_secs(120));
        } else if plan.operator.is_empty() || plan.customer.is_empty() {
            return Err("give --operator TOKEN and --customer TOKEN (domainflow token ...)".into());
        }
        Ok(plan)
    }

    /// Clients that place orders.
    #[must_use]
    pub fn writers(&self) -> usize {
        match self.scenario {
            Scenario::Place => self.clients,
            Scenario::Read => 0,
            Scenario::Mixed => self.clients.div_ceil(2),
        }
    }

    /// Clients that read.
    #[must_use]
    pub fn readers(&self) -> usize {
        self.clients - self.writers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_smoke_run_is_short_mixed_and_needs_no_tokens() {
        let plan = Plan::from_args(args(&["--smoke", "--clients", "32"])).unwrap();
        assert_eq!(plan.scenario, Scenario::Mixed);
        assert!(plan.faults && plan.timeouts && !plan.tolerate_busy);
        assert_eq!((plan.clients, plan.writers(), plan.readers()), (4, 2, 2));
        assert!(plan.seconds <= 3.0);
    }

    #[test]
    fn a_run_against_a_server_needs_both_tokens() {
        let refused = Plan::from_args(args(&["--operator", "x"])).unwrap_err();
        assert!(refused.contains("--customer"), "{refused}");
        let plan = Plan::from_args(args(&[
            "--operator",
            "o",
            "--customer",
            "c",
            "--scenario",
            "read",
            "--hot",
        ]))
        .unwrap();
        assert_eq!((plan.writers(), plan.readers(), plan.skus), (0, 16, 1));
        assert!(Plan::from_args(args(&["--seconds", "0"])).is_err());
    }
}
