//! A token verifier with a fixed table of answers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chat_domain::{
    ids::UserId,
    ports::{TokenError, TokenVerifier, VerifiedToken},
    time::Timestamp,
    user::DisplayName,
};

/// A [`TokenVerifier`] that answers from a table: a listed token gets its listed result, the
/// empty token `TokenError::Missing`, anything else `TokenError::Invalid`. Clones share one
/// table, so tokens may be added while a service holds it.
#[derive(Debug, Clone, Default)]
pub struct StaticTokenVerifier {
    table: Arc<Mutex<HashMap<String, Result<VerifiedToken, TokenError>>>>,
}

impl StaticTokenVerifier {
    /// A verifier that knows no token.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `token`, verifying as `user` (with `name`) until `expires_at`.
    #[must_use]
    pub fn with_user(
        self,
        token: &str,
        user: UserId,
        name: Option<DisplayName>,
        expires_at: Timestamp,
    ) -> Self {
        let verified = VerifiedToken {
            user_id: user,
            name,
            expires_at,
            issued_at: None,
        };
        self.insert(token, Ok(verified));
        self
    }

    /// Adds `token`, refused with `error`.
    #[must_use]
    pub fn with_error(self, token: &str, error: TokenError) -> Self {
        self.insert(token, Err(error));
        self
    }

    /// Sets (or replaces) the answer for `token`.
    pub fn insert(&self, token: &str, result: Result<VerifiedToken, TokenError>) {
        self.table.lock().unwrap().insert(token.to_owned(), result);
    }
}

impl TokenVerifier for StaticTokenVerifier {
    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        match self.table.lock().unwrap().get(token) {
            Some(result) => result.clone(),
            None if token.is_empty() => Err(TokenError::Missing),
            None => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn listed_tokens_get_their_answer_and_others_are_refused() {
        let ada = UserId::new(Uuid::from_u128(1));
        let until = Timestamp::from_millis(10);
        let verifier = StaticTokenVerifier::new()
            .with_user("ada", ada, None, until)
            .with_error("old", TokenError::Expired);
        assert_eq!(verifier.verify("ada").map(|t| t.user_id), Ok(ada));
        assert_eq!(verifier.verify("old"), Err(TokenError::Expired));
        assert_eq!(verifier.verify("forged"), Err(TokenError::Invalid));
        assert_eq!(verifier.verify(""), Err(TokenError::Missing));
        verifier.clone().insert("forged", Err(TokenError::Expired));
        assert_eq!(
            verifier.verify("forged"),
            Err(TokenError::Expired),
            "clones share the table"
        );
    }
}
