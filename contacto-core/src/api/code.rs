//! The server's stable error codes as a type, so that callers match on variants, not strings.

/// Declares [`ErrorCode`] from one list of `Variant => "CODE", "meaning"`, so that the variants,
/// their codes and the parser cannot drift apart.
macro_rules! error_codes {
    ($($variant:ident => $code:literal, $doc:literal;)*) => {
        /// A stable machine code of the server's error envelope (`INSUFFICIENT_FUNDS`).
        ///
        /// Core's codes (`contacto_core::ERROR_CODES`) and the server's own about the exchange
        /// (`ROUTE_NOT_FOUND`, `MALFORMED_JSON`...). The client parses its errors' codes into
        /// it (`contacto_client::Error::error_code`); a newer server may send a code an older
        /// client does not know, which parses to `None` (the text is still there).
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = $doc]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as the server writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The code for the server's text, if it is one of these.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    InsufficientFunds => "INSUFFICIENT_FUNDS",
        "The paying wallet's available balance is lower than the amount.";
    CurrencyMismatch => "CURRENCY_MISMATCH", "The wallets hold different currencies.";
    WalletFrozen => "WALLET_FROZEN", "A frozen wallet neither sends nor receives.";
    LimitExceeded => "LIMIT_EXCEEDED",
        "The daily outgoing limit of the wallet's level would be passed.";
    WalletExists => "WALLET_EXISTS", "The caller already has a wallet in this currency.";
    ProfileExists => "PROFILE_EXISTS", "The caller already has a professional profile.";
    ReviewExists => "REVIEW_EXISTS", "The caller already reviewed this professional.";
    ReviewAnswered => "REVIEW_ANSWERED", "The review already has the professional's answer.";
    IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
        "An idempotency key came back with a different request.";
    InvalidSignature => "INVALID_SIGNATURE", "A webhook's signature is missing or wrong.";
    DepositSettled => "DEPOSIT_SETTLED", "The deposit was already settled the other way.";
    RefundExceedsPayment => "REFUND_EXCEEDS_PAYMENT",
        "A refund would give back more than remains of the payment.";
    WithdrawalSettled => "WITHDRAWAL_SETTLED", "The withdrawal was already completed or failed.";
    HoldSettled => "HOLD_SETTLED", "The hold was already captured, voided or expired.";
    ValidationFailed => "VALIDATION_FAILED", "Fields that break their rules (named in the details).";
    EmailTaken => "EMAIL_TAKEN", "The email belongs to another account.";
    PhoneTaken => "PHONE_TAKEN", "The phone number belongs to another account.";
    InvalidCredentials => "INVALID_CREDENTIALS", "Wrong email or password.";
    Unauthenticated => "UNAUTHENTICATED", "Missing, invalid, expired or revoked credentials.";
    Forbidden => "FORBIDDEN", "Authenticated, but not allowed to do this.";
    NotFound => "NOT_FOUND", "Nothing there, or nothing the caller may see.";
    QuotaExceeded => "QUOTA_EXCEEDED", "A per-user quota is full (active API keys).";
    RateLimited => "RATE_LIMITED", "Too many attempts; `Retry-After` says how long to wait.";
    SchemaOutdated => "SCHEMA_OUTDATED", "The database schema is older than the server.";
    SchemaAhead => "SCHEMA_AHEAD", "The database schema is newer than the server.";
    StatementsUnavailable => "STATEMENTS_UNAVAILABLE",
        "Statement statistics are not installed on the database.";
    ServiceUnavailable => "SERVICE_UNAVAILABLE",
        "The database is unreachable or overloaded; retry later.";
    Internal => "INTERNAL", "A bug on the server's side.";
    RouteNotFound => "ROUTE_NOT_FOUND", "No such path in the API.";
    MethodNotAllowed => "METHOD_NOT_ALLOWED", "The path exists, not with this method.";
    PayloadTooLarge => "PAYLOAD_TOO_LARGE", "The request body is over the server's cap.";
    UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE", "The request body is not declared as JSON.";
    MalformedJson => "MALFORMED_JSON", "The request body is not valid JSON.";
    BodyUnreadable => "BODY_UNREADABLE", "The request body could not be read.";
    RequestTimeout => "REQUEST_TIMEOUT", "The request took longer than the server allows.";
    NotReady => "NOT_READY", "The server is starting or shutting down.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_parses_back_to_itself_and_unknown_ones_to_none() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert_eq!(code.to_string(), code.as_str());
        }
        assert_eq!(ErrorCode::parse("SOMETHING_NEW"), None);
        assert_eq!(ErrorCode::parse("insufficient_funds"), None);
    }
}
