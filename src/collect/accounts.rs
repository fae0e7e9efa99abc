//! User and group names from the node's own `/etc/passwd` and `/etc/group`
//! (never the auditing container's), parsed from text.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Accounts {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

/// `name:x:id:...` lines; the first name for an id wins, as in libc.
fn parse_ids(text: &str) -> HashMap<u32, String> {
    let mut map = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(id) = id.parse::<u32>() {
            map.entry(id).or_insert_with(|| name.to_string());
        }
    }
    map
}

impl Accounts {
    pub fn parse(passwd: &str, group: &str) -> Accounts {
        Accounts {
            users: parse_ids(passwd),
            groups: parse_ids(group),
        }
    }

    /// The user name, or the number when the node has no name for it.
    pub fn user(&self, uid: u32) -> String {
        self.users
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    pub fn group(&self, gid: u32) -> String {
        self.groups
            .get(&gid)
            .cloned()
            .unwrap_or_else(|| gid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_files_and_fall_back_to_numbers() {
        let a = Accounts::parse(
            "root:x:0:0:root:/root:/bin/bash\n# comment\netcd:x:998:998::/var/lib/etcd:/sbin/nologin\nbroken\n",
            "root:x:0:\netcd:x:998:\n",
        );
        assert_eq!(a.user(0), "root");
        assert_eq!(a.user(998), "etcd");
        assert_eq!(a.group(998), "etcd");
        assert_eq!(a.user(1234), "1234");
    }
}
