//! Amounts of money in a currency.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::ValueError;

/// The currencies amounts can be in (ISO 4217 codes on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Colombian peso.
    Cop,
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Mexican peso.
    Mxn,
}

impl Currency {
    /// Every currency, in declaration order.
    pub const ALL: [Currency; 4] = [Currency::Cop, Currency::Usd, Currency::Eur, Currency::Mxn];

    /// The ISO 4217 code (`COP`).
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Cop => "COP",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Mxn => "MXN",
        }
    }

    /// How many minor units make one major unit, as a power of ten (ISO 4217 exponent: 2 for
    /// all four).
    pub const fn minor_digits(self) -> u32 {
        match self {
            Currency::Cop | Currency::Usd | Currency::Eur | Currency::Mxn => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim();
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| ValueError::new("must be one of COP, USD, EUR, MXN"))
    }
}

/// An amount of money in integer minor units (cents), never negative, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    /// `amount_minor` of `currency`; refuses a negative amount.
    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, ValueError> {
        if amount_minor < 0 {
            return Err(ValueError::new("must not be negative"));
        }
        Ok(Self { amount_minor, currency })
    }

    /// Nothing, in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }

    /// The amount in minor units (≥ 0).
    pub const fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    /// The sum; refuses mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, ValueError> {
        self.same_currency(other)?;
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or_else(|| ValueError::new("amount is too large"))?;
        Ok(Money {
            amount_minor,
            currency: self.currency,
        })
    }

    /// The difference; refuses mixed currencies and a negative result.
    pub fn checked_sub(self, other: Money) -> Result<Money, ValueError> {
        self.same_currency(other)?;
        Money::new(self.amount_minor - other.amount_minor, self.currency)
    }

    fn same_currency(self, other: Money) -> Result<(), ValueError> {
        if self.currency != other.currency {
            return Err(ValueError::new(format!(
                "currency mismatch: {} and {}",
                self.currency, other.currency
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Money {
    /// `1234.50 COP`: the minor units placed by the currency's exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let scale = 10_i64.pow(digits);
        let width = usize::try_from(digits).unwrap_or(2);
        write!(
            f,
            "{}.{:0width$} {}",
            self.amount_minor / scale,
            self.amount_minor % scale,
            self.currency
        )
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            amount_minor: i64,
            currency: Currency,
        }
        let raw = Raw::deserialize(deserializer)?;
        Money::new(raw.amount_minor, raw.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_display_places_decimals() {
        let m = Money::new(123_405, Currency::Cop).expect("valid");
        assert_eq!(m.to_string(), "1234.05 COP");
    }
}
