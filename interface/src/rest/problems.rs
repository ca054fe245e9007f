//! The error answers every command endpoint documents: one list, so the OpenAPI document
//! states them the same way everywhere; and the one way a list of error answers becomes
//! OpenAPI responses.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Ref, RefOr};

/// The problem+json answers of a command endpoint.
#[derive(Debug)]
pub struct CommandProblems;

const ANSWERS: [(u16, &str); 6] = [
    (401, "UNAUTHENTICATED: no valid token or API key"),
    (
        403,
        "FORBIDDEN: the caller's role or ownership does not allow it",
    ),
    (
        404,
        "NOT_FOUND: the order, ticket or product does not exist",
    ),
    (
        409,
        "REJECTED: a business rule refused it as the resource stands (the rule is in \
         `reason`); CONFLICT: a concurrent change, or the same Idempotency-Key still running",
    ),
    (413, "VALIDATION: the body is larger than the limit"),
    (
        422,
        "VALIDATION: invalid input; IDEMPOTENCY_MISMATCH: the Idempotency-Key was used with \
         another request",
    ),
];

impl IntoResponses for CommandProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(&ANSWERS)
    }
}

/// The problem+json answers of placing an order: those of every command, a line whose
/// price is not the catalog price, and new orders waiting while fulfilment is behind.
#[derive(Debug)]
pub struct PlaceOrderProblems;

impl IntoResponses for PlaceOrderProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let waiting = (
            503,
            "UNAVAILABLE: order fulfilment is further behind than the server's limit, or the \
             payment provider cannot register the payment token (or the database cannot be \
             reached); nothing was done: try again after Retry-After",
        );
        let answers = ANSWERS.map(|(status, description)| match status {
            422 => (
                422,
                "VALIDATION: invalid input, or a paymentToken the payment provider refuses; \
                 PRICE_MISMATCH: a line's unitPrice is not its product's catalog price, or the \
                 product is priced in another currency than the order; IDEMPOTENCY_MISMATCH: \
                 the Idempotency-Key was used with another request",
            ),
            _ => (status, description),
        });
        let mut answers = answers.to_vec();
        answers.push(waiting);
        problem_responses(&answers)
    }
}

/// The problem+json answers of erasing a customer: those of every command, and a server
/// started without a data key.
#[derive(Debug)]
pub struct EraseCustomerProblems;

impl IntoResponses for EraseCustomerProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let answers = ANSWERS.map(|(status, description)| match status {
            409 => (
                409,
                "NOT_CONFIGURED: the server runs without --data-key, so it stores personal \
                 data in the clear and cannot erase it; CONFLICT: a concurrent change, or the \
                 same Idempotency-Key still running",
            ),
            _ => (status, description),
        });
        problem_responses(&answers)
    }
}

/// What any request may be answered by the server's limits on use (README, "Security").
const LIMIT_ANSWERS: [(u16, &str); 2] = [
    (
        429,
        "RATE_LIMITED: the caller, or its client address, is over its rate limit; nothing \
         was done: try again after Retry-After",
    ),
    (
        503,
        "UNAVAILABLE: the server is at its limit of requests at once, the request ran past \
         the request timeout (a command may still take effect: send it again with the same \
         Idempotency-Key), or the database cannot be reached; try again after Retry-After",
    ),
];

/// Adds the answers of the limits on use to every operation of `api` that does not state
/// its own.
pub fn add_limit_answers(api: &mut utoipa::openapi::OpenApi) {
    let answers = problem_responses(&LIMIT_ANSWERS);
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, answer) in &answers {
                operation
                    .responses
                    .responses
                    .entry(status.clone())
                    .or_insert_with(|| answer.clone());
            }
        }
    }
}

/// The OpenAPI responses of `answers` (status, description), each a problem+json
/// document: what every endpoint's list of error answers turns into.
#[must_use]
pub fn problem_responses(answers: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    answers
        .iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/problem+json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}
