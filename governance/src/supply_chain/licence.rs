//! SPDX licence expressions in disjunctive normal form: the choices a
//! licensee has (`MIT OR Apache-2.0` is two choices of one licence each;
//! `(MIT OR Apache-2.0) AND Unicode-3.0` is two choices of two). The Rego
//! gate then needs only set membership to decide.

use spdx::expression::{ExprNode, Operator};

/// Choices above this count are refused: a pathological expression must
/// not blow up the gate's input (real crates have at most a handful).
pub const MAX_CHOICES: usize = 64;

/// An expression that cannot be read as SPDX.
#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    /// The expression does not parse (lax mode: `/` as OR is accepted).
    #[error("licence expression {expression:?} does not parse: {message}")]
    Parse {
        /// The expression.
        expression: String,
        /// The parser's message.
        message: String,
    },
    /// The expression expands to more than [`MAX_CHOICES`] choices.
    #[error("licence expression {0:?} has more than {MAX_CHOICES} choices")]
    TooManyChoices(String),
}

/// The choices of `expression`: each a sorted list of licences (written as
/// SPDX does, `Apache-2.0 WITH LLVM-exception` for one with an exception),
/// all of which apply together; any one choice suffices.
pub fn choices(expression: &str) -> Result<Vec<Vec<String>>, LicenceError> {
    let parsed = spdx::Expression::parse_mode(expression, spdx::ParseMode::LAX).map_err(|e| {
        LicenceError::Parse {
            expression: expression.to_string(),
            message: e.reason.to_string(),
        }
    })?;
    // The expression is stored in postfix order: fold it on a stack of DNFs.
    let mut stack: Vec<Vec<Vec<String>>> = Vec::new();
    for node in parsed.iter() {
        match node {
            ExprNode::Req(req) => stack.push(vec![vec![req.req.to_string()]]),
            ExprNode::Op(op) => {
                let (Some(right), Some(left)) = (stack.pop(), stack.pop()) else {
                    return Err(LicenceError::Parse {
                        expression: expression.to_string(),
                        message: "an operator without two operands".into(),
                    });
                };
                let combined = match op {
                    Operator::Or => left.into_iter().chain(right).collect::<Vec<_>>(),
                    Operator::And => {
                        let mut product = Vec::with_capacity(left.len() * right.len());
                        for l in &left {
                            for r in &right {
                                product.push(l.iter().chain(r).cloned().collect());
                            }
                        }
                        product
                    }
                };
                if combined.len() > MAX_CHOICES {
                    return Err(LicenceError::TooManyChoices(expression.to_string()));
                }
                stack.push(combined);
            }
        }
    }
    let mut result = match (stack.pop(), stack.is_empty()) {
        (Some(top), true) => top,
        _ => {
            return Err(LicenceError::Parse {
                expression: expression.to_string(),
                message: "not one expression".into(),
            })
        }
    };
    for choice in &mut result {
        choice.sort();
        choice.dedup();
    }
    result.sort();
    result.dedup();
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(expression: &str) -> Vec<Vec<String>> {
        choices(expression).unwrap()
    }

    fn v(choices: &[&[&str]]) -> Vec<Vec<String>> {
        choices
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn expressions_become_choices() {
        assert_eq!(c("MIT"), v(&[&["MIT"]]));
        assert_eq!(c("MIT OR Apache-2.0"), v(&[&["Apache-2.0"], &["MIT"]]));
        assert_eq!(c("MIT/Apache-2.0"), v(&[&["Apache-2.0"], &["MIT"]]));
        assert_eq!(
            c("(MIT OR Apache-2.0) AND Unicode-3.0"),
            v(&[&["Apache-2.0", "Unicode-3.0"], &["MIT", "Unicode-3.0"]])
        );
        assert_eq!(
            c("Apache-2.0 WITH LLVM-exception OR MIT"),
            v(&[&["Apache-2.0 WITH LLVM-exception"], &["MIT"]])
        );
        assert_eq!(
            c("MIT AND (Apache-2.0 OR BSD-3-Clause) AND (ISC OR Zlib)"),
            v(&[
                &["Apache-2.0", "ISC", "MIT"],
                &["Apache-2.0", "MIT", "Zlib"],
                &["BSD-3-Clause", "ISC", "MIT"],
                &["BSD-3-Clause", "MIT", "Zlib"],
            ])
        );
    }

    #[test]
    fn bad_and_explosive_expressions_are_refused() {
        assert!(matches!(choices(""), Err(LicenceError::Parse { .. })));
        assert!(matches!(
            choices("MIT AND OR"),
            Err(LicenceError::Parse { .. })
        ));
        let explosive = ["(MIT OR Apache-2.0)"; 7].join(" AND ");
        assert!(matches!(
            choices(&explosive),
            Err(LicenceError::TooManyChoices(_))
        ));
    }
}
