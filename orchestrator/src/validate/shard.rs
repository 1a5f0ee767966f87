//! `--shard K/N`: a fixed share of the account x region pairs, by a stable hash of
//! `account/region` (FNV-1a, the same on every machine and release), so any job runner can
//! spread a long validation and `validate-logs merge` joins the parts.
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub k: u32,
    pub n: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {value}: want K/N with 1 <= K <= N (e.g. 1/4)")]
pub struct BadShard {
    pub value: String,
}

impl FromStr for Shard {
    type Err = BadShard;

    fn from_str(s: &str) -> Result<Shard, BadShard> {
        let bad = || BadShard { value: s.to_string() };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// FNV-1a 64 of `account/region`, through splitmix64's finalizer: FNV's low bits alone follow
/// the parity of the bytes, so `mod N` of the raw hash can put every pair in one shard.
pub fn pair_hash(account: &str, region: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.bytes().chain([b'/']).chain(region.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Shard {
    pub fn takes(&self, account: &str, region: &str) -> bool {
        pair_hash(account, region) % u64::from(self.n) == u64::from(self.k - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { k: 2, n: 3 }));
        for bad in ["0/2", "3/2", "1", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_pair_is_in_exactly_one_shard_and_the_hash_is_stable() {
        assert_eq!(pair_hash("111111111111", "us-east-1"), pair_hash("111111111111", "us-east-1"));
        assert_eq!(pair_hash("", ""), 0x7fac_e396_ae05_4c7d);
        for a in 0..50u32 {
            let account = format!("{a:012}");
            for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
                let owners = (1..=3).filter(|k| Shard { k: *k, n: 3 }.takes(&account, region)).count();
                assert_eq!(owners, 1);
            }
        }
        // Two shards of a handful of pairs both get some (the raw FNV low bit would not).
        let first: usize = ["111111111111", "222222222222", "333333333333"].iter().flat_map(|a| ["us-east-1", "eu-west-1"].map(|r| Shard { k: 1, n: 2 }.takes(a, r))).filter(|t| *t).count();
        assert!(first > 0 && first < 6, "{first}");
    }
}
