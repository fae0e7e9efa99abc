//! User and group names from the node's own `/etc/passwd` and `/etc/group`
//! (never the auditing container's), parsed from text.

use std::collections::HashMap;

/// The names in one file, or why the file could not be read.
type Names = Result<HashMap<u32, String>, String>;

#[derive(Debug, Clone)]
pub struct Accounts {
    users: Names,
    groups: Names,
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
        Accounts::from_files(Ok(passwd.to_string()), Ok(group.to_string()))
    }

    /// From the text of `/etc/passwd` and `/etc/group`, or why each could
    /// not be read (then no id can be named, and owner tests are unknown).
    pub fn from_files(passwd: Result<String, String>, group: Result<String, String>) -> Accounts {
        Accounts {
            users: passwd.map(|t| parse_ids(&t)),
            groups: group.map(|t| parse_ids(&t)),
        }
    }

    fn name(names: &Names, id: u32) -> Result<String, String> {
        match names {
            Ok(map) => Ok(map.get(&id).cloned().unwrap_or_else(|| id.to_string())),
            Err(why) => Err(format!("cannot name id {id}: {why}")),
        }
    }

    /// The user name, or the number when the node's `/etc/passwd` has no
    /// name for it; an error when that file could not be read.
    pub fn user(&self, uid: u32) -> Result<String, String> {
        Self::name(&self.users, uid)
    }

    pub fn group(&self, gid: u32) -> Result<String, String> {
        Self::name(&self.groups, gid)
    }

    /// `user:group` for evidence: names where known, numbers otherwise.
    pub fn owner_text(&self, uid: u32, gid: u32) -> String {
        format!(
            "{}:{}",
            self.user(uid).unwrap_or_else(|_| uid.to_string()),
            self.group(gid).unwrap_or_else(|_| gid.to_string())
        )
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
        assert_eq!(a.user(0).unwrap(), "root");
        assert_eq!(a.user(998).unwrap(), "etcd");
        assert_eq!(a.group(998).unwrap(), "etcd");
        assert_eq!(a.user(1234).unwrap(), "1234");
    }

    #[test]
    fn an_unreadable_passwd_names_nobody() {
        let a = Accounts::from_files(
            Err("/etc/passwd permission denied".to_string()),
            Ok("root:x:0:\n".to_string()),
        );
        let err = a.user(0).unwrap_err();
        assert!(
            err.contains("id 0") && err.contains("/etc/passwd permission denied"),
            "{err}"
        );
        assert_eq!(a.group(0).unwrap(), "root");
        assert_eq!(a.owner_text(0, 0), "0:root");
    }
}
