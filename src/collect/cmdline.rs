//! Parses a component's command line into flags the way Kubernetes
//! components (spf13/pflag) and etcd (Go's flag package) read them:
//! `--flag=value`, `--flag value`, bare boolean `--flag`, repeated flags with
//! the last one winning. Pure: takes argv, reads nothing.

/// One flag occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagOccurrence {
    /// Name without leading dashes.
    pub name: String,
    /// `None` for a bare boolean flag.
    pub value: Option<String>,
    /// The argument(s) as written, for evidence.
    pub written: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    occurrences: Vec<FlagOccurrence>,
}

fn is_flag(arg: &str) -> bool {
    arg.starts_with('-') && arg.len() > 1 && arg != "--" && !looks_numeric(arg)
}

fn looks_numeric(arg: &str) -> bool {
    arg.strip_prefix('-').is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
    })
}

impl Flags {
    /// Parse the arguments after the executable (and any subcommand words).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Flags {
        let mut occurrences = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            if arg == "--" {
                break;
            }
            if !is_flag(arg) {
                i += 1;
                continue;
            }
            let body = arg.trim_start_matches('-');
            if let Some((name, value)) = body.split_once('=') {
                occurrences.push(FlagOccurrence {
                    name: name.to_string(),
                    value: Some(value.to_string()),
                    written: arg.to_string(),
                });
                i += 1;
            } else if let Some(next) = args
                .get(i + 1)
                .map(AsRef::as_ref)
                .filter(|n| !is_flag(n) && *n != "--")
            {
                // `--flag value`. pflag treats a boolean flag followed by a
                // word as boolean + positional; Kubernetes components take no
                // positional arguments, so the word is the value.
                occurrences.push(FlagOccurrence {
                    name: body.to_string(),
                    value: Some(next.to_string()),
                    written: format!("{arg} {next}"),
                });
                i += 2;
            } else {
                occurrences.push(FlagOccurrence {
                    name: body.to_string(),
                    value: None,
                    written: arg.to_string(),
                });
                i += 1;
            }
        }
        Flags { occurrences }
    }

    /// The effective occurrence of `flag` (`--name`, `-name` or `name`):
    /// the last one, as the components apply them in order.
    pub fn get(&self, flag: &str) -> Option<&FlagOccurrence> {
        let name = flag.trim_start_matches('-');
        self.occurrences.iter().rev().find(|o| o.name == name)
    }

    /// The effective value: a bare boolean flag is `true`.
    pub fn value(&self, flag: &str) -> Option<String> {
        self.get(flag)
            .map(|o| o.value.clone().unwrap_or_else(|| "true".to_string()))
    }

    /// How many times `flag` appears.
    pub fn count(&self, flag: &str) -> usize {
        let name = flag.trim_start_matches('-');
        self.occurrences.iter().filter(|o| o.name == name).count()
    }

    pub fn is_empty(&self) -> bool {
        self.occurrences.is_empty()
    }
}

/// The value of `key` in a `k=v,k=v` list (`--feature-gates`), the last
/// occurrence winning.
pub fn map_entry(list: &str, key: &str) -> Option<String> {
    list.split(',')
        .rev()
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(line: &str) -> Flags {
        let args: Vec<&str> = line.split_whitespace().collect();
        Flags::parse(&args)
    }

    #[test]
    fn the_forms_of_a_flag() {
        let f = flags("--a=1 --b 2 --c --d=x=y -e=3 --f= --g -1");
        assert_eq!(f.value("--a").as_deref(), Some("1"));
        assert_eq!(f.value("--b").as_deref(), Some("2"));
        assert_eq!(f.value("--c").as_deref(), Some("true"));
        assert_eq!(f.get("--c").unwrap().value, None);
        assert_eq!(f.value("--d").as_deref(), Some("x=y"));
        assert_eq!(f.value("--e").as_deref(), Some("3"));
        assert_eq!(f.value("--f").as_deref(), Some(""));
        assert_eq!(f.value("--g").as_deref(), Some("-1"));
        assert_eq!(f.value("--h"), None);
    }

    #[test]
    fn the_last_occurrence_wins() {
        let f = flags("--profiling=true --x --profiling=false");
        assert_eq!(f.value("--profiling").as_deref(), Some("false"));
        assert_eq!(f.count("--profiling"), 2);
    }

    #[test]
    fn names_match_exactly_not_by_substring() {
        let f = flags("--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --anonymous-auth-extra=1");
        assert_eq!(f.value("--kubeconfig"), None);
        assert_eq!(f.value("--anonymous-auth"), None);
    }

    #[test]
    fn a_bare_flag_before_another_flag_is_boolean() {
        let f = flags("--client-cert-auth --trusted-ca-file=/ca.crt");
        assert_eq!(f.value("--client-cert-auth").as_deref(), Some("true"));
        assert_eq!(f.value("--trusted-ca-file").as_deref(), Some("/ca.crt"));
    }

    #[test]
    fn a_double_dash_ends_the_flags() {
        let f = flags("--a=1 -- --b=2");
        assert_eq!(f.value("--b"), None);
    }

    #[test]
    fn map_entries() {
        assert_eq!(
            map_entry(
                "A=true,RotateKubeletServerCertificate=false",
                "RotateKubeletServerCertificate"
            )
            .as_deref(),
            Some("false")
        );
        assert_eq!(map_entry("A=true", "B"), None);
        assert_eq!(map_entry("B=true, B=false", "B").as_deref(), Some("false"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        /// Names that are prefixes of one another, as `--kubeconfig` is a
        /// suffix of `--bootstrap-kubeconfig`.
        const NAMES: [&str; 6] = ["a", "ab", "a-b", "b", "kubeconfig", "bootstrap-kubeconfig"];

        #[derive(Debug, Clone)]
        enum Form {
            /// `--name=value` (or `-name=value`); any value, even `-x` or `a=b`.
            Joined { single_dash: bool, value: String },
            /// `--name value`; a value that is not a flag.
            Separate(String),
            /// `--name` alone.
            Bare,
        }

        fn occurrence() -> impl Strategy<Value = (&'static str, Form)> {
            let joined = (any::<bool>(), "[-a-z0-9=,:/.]{0,6}")
                .prop_map(|(single_dash, value)| Form::Joined { single_dash, value });
            let separate = prop_oneof!["[a-z0-9/.][-a-z0-9=,:/.]{0,5}", "-[0-9]{1,3}"]
                .prop_map(Form::Separate);
            (
                prop::sample::select(NAMES.to_vec()),
                prop_oneof![joined, separate, Just(Form::Bare)],
            )
        }

        proptest! {
            #[test]
            fn the_last_occurrence_of_each_exact_name_wins(occ in prop::collection::vec(occurrence(), 0..10)) {
                let mut argv: Vec<String> = Vec::new();
                // What each name should come out as: (last value, count).
                let mut want: BTreeMap<&str, (String, usize)> = BTreeMap::new();
                for (name, form) in &occ {
                    let value = match form {
                        Form::Joined { single_dash, value } => {
                            let dashes = if *single_dash { "-" } else { "--" };
                            argv.push(format!("{dashes}{name}={value}"));
                            value.clone()
                        }
                        Form::Separate(value) => {
                            argv.push(format!("--{name}"));
                            argv.push(value.clone());
                            value.clone()
                        }
                        Form::Bare => {
                            argv.push(format!("--{name}"));
                            "true".to_string()
                        }
                    };
                    let entry = want.entry(name).or_insert((String::new(), 0));
                    *entry = (value, entry.1 + 1);
                }
                let flags = Flags::parse(&argv);
                for name in NAMES {
                    let (value, count) = match want.get(name) {
                        Some((v, n)) => (Some(v.clone()), *n),
                        None => (None, 0),
                    };
                    prop_assert_eq!(flags.value(&format!("--{name}")), value.clone(), "--{} in {:?}", name, argv);
                    prop_assert_eq!(flags.value(name), value, "{} in {:?}", name, argv);
                    prop_assert_eq!(flags.count(&format!("--{name}")), count, "--{} in {:?}", name, argv);
                }
            }
        }
    }
}
