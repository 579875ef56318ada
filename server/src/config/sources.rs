//! The three sources of a setting, read by the table in [`super::SETTINGS`] alone: the flags and
//! the environment through clap (flags win), the TOML file through serde (unknown keys are
//! refused, with toml's position), and [`Layers`], which asks the flags first, then the file.

use super::{ConfigError, Kind, SETTINGS, Setting, bad, setting};
use clap::builder::ValueParser;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One source's value for a setting, as read.
#[derive(Debug, Clone)]
enum Raw {
    Text(String),
    Path(PathBuf),
    Bool(bool),
    /// From the file only: the command line gives numbers as text, checked with the file's.
    Number(u64),
    List(Vec<String>),
}

type Values = BTreeMap<&'static str, Raw>;

/// The settings given as flags or environment variables.
#[derive(Debug, Clone, Default)]
pub struct Flags(Values);

impl Setting {
    /// The key in messages: the file key, or what stands for it.
    pub fn file_key(&self) -> &'static str {
        self.not_in_file.unwrap_or(self.key)
    }

    pub fn env(&self) -> String {
        format!("REGENT_{}", self.key.replace('.', "_").to_ascii_uppercase())
    }

    pub fn flag(&self) -> String {
        format!("--{}", self.key.replace(['.', '_'], "-"))
    }

    /// The help line: the text, then the range and default it accepts.
    fn help(&self) -> String {
        let text = self.help.trim().trim_end_matches('.');
        match (&self.kind, self.default) {
            (Kind::Number { default, range, .. }, _) => {
                format!("{text} ({} to {}) [default: {default}]", range.start(), range.end())
            }
            (Kind::Bool, _) => format!("{text} [default: false]"),
            (_, Some(default)) => format!("{text} [default: {default}]"),
            (_, None) => text.to_owned(),
        }
    }

    fn arg(&'static self) -> clap::Arg {
        let parser = match self.kind {
            Kind::Path => ValueParser::path_buf(),
            Kind::Bool => ValueParser::bool(),
            _ => ValueParser::string(),
        };
        clap::Arg::new(self.key)
            .long(self.flag().trim_start_matches('-').to_owned())
            .env(self.env())
            .value_name(self.value_name)
            .help(self.help())
            .hide_env_values(self.secret)
            .global(self.global)
            .value_parser(parser)
    }
}

impl clap::Args for Flags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS.iter().fold(cmd, |cmd, s| cmd.arg(s.arg()))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for Flags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut values = Values::new();
        for s in SETTINGS {
            let raw = match s.kind {
                Kind::Path => matches.get_one::<PathBuf>(s.key).cloned().map(Raw::Path),
                Kind::Bool => matches.get_one::<bool>(s.key).copied().map(Raw::Bool),
                _ => matches.get_one::<String>(s.key).cloned().map(Raw::Text),
            };
            values.extend(raw.map(|raw| (s.key, raw)));
        }
        Ok(Self(values))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// The TOML file's settings. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default)]
pub struct FileSettings(Values);

impl FileSettings {
    /// The file that `--config` names, or none.
    pub fn read(flags: &Flags) -> Result<Self, ConfigError> {
        let Some(Raw::Path(path)) = flags.0.get("config") else {
            return Ok(Self::default());
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad("config", format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| bad("config", format!("{} is not valid: {e}", path.display())))
    }
}

impl<'de> serde::Deserialize<'de> for FileSettings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut values = Values::new();
        Table {
            section: None,
            values: &mut values,
        }
        .deserialize(deserializer)?;
        Ok(Self(values))
    }
}

/// The top of the file (`section` `None`) or one `[section]`, read into `values`.
struct Table<'a> {
    section: Option<&'a str>,
    values: &'a mut Values,
}

/// The keys a table may have: the settings in it and, at the top, the sections.
fn keys(section: Option<&str>) -> impl Iterator<Item = (&'static str, Option<&'static Setting>)> {
    SETTINGS
        .iter()
        .filter(|s| s.not_in_file.is_none())
        .filter_map(move |s| match (section, s.key.split_once('.')) {
            (None, None) => Some((s.key, Some(s))),
            (None, Some((section, _))) => Some((section, None)),
            (Some(want), Some((section, key))) if want == section => Some((key, Some(s))),
            _ => None,
        })
}

/// A key of the table `.0`, refused while it is read when unknown, so toml points at it.
struct Key<'a>(Option<&'a str>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = (&'static str, Option<&'static Setting>);

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(deserializer)?;
        keys(self.0).find(|(key, _)| *key == name).ok_or_else(|| {
            let mut expected: Vec<&'static str> = Vec::new();
            for (key, _) in keys(self.0) {
                if !expected.contains(&key) {
                    expected.push(key);
                }
            }
            de::Error::unknown_field(&name, expected.leak())
        })
    }
}

impl<'de> DeserializeSeed<'de> for Table<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Table<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table of settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some((name, found)) = map.next_key_seed(Key(self.section))? {
            let Some(s) = found else {
                map.next_value_seed(Table {
                    section: Some(name),
                    values: &mut *self.values,
                })?;
                continue;
            };
            let raw = match s.kind {
                Kind::Text => Raw::Text(map.next_value()?),
                Kind::Path => Raw::Path(map.next_value()?),
                Kind::Bool => Raw::Bool(map.next_value()?),
                Kind::List => Raw::List(map.next_value()?),
                Kind::Number { .. } => Raw::Number(map.next_value()?),
            };
            self.values.insert(s.key, raw);
        }
        Ok(())
    }
}

/// Each setting's value from the flags or environment, else the file, else its default.
pub struct Layers<'a> {
    flags: &'a Flags,
    file: FileSettings,
}

impl<'a> Layers<'a> {
    pub fn new(flags: &'a Flags, file: FileSettings) -> Self {
        Self { flags, file }
    }

    fn raw(&self, key: &str) -> (&'static Setting, Option<&Raw>) {
        (setting(key), self.flags.0.get(key).or_else(|| self.file.0.get(key)))
    }

    pub fn text(&self, key: &str) -> Option<String> {
        match self.raw(key) {
            (_, Some(Raw::Text(text))) => Some(text.clone()),
            (s, _) => s.default.map(str::to_owned),
        }
    }

    pub fn path(&self, key: &str) -> Option<PathBuf> {
        match self.raw(key) {
            (_, Some(Raw::Path(path))) => Some(path.clone()),
            (s, _) => s.default.map(PathBuf::from),
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.raw(key) {
            (_, Some(Raw::Bool(value))) => Some(*value),
            _ => None,
        }
    }

    /// A list: the file's, or the comma-separated text of a flag as one entry.
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.raw(key) {
            (_, Some(Raw::List(list))) => list.clone(),
            (_, Some(Raw::Text(text))) => vec![text.clone()],
            _ => Vec::new(),
        }
    }

    /// A whole number in the setting's range.
    pub fn number(&self, key: &str) -> Result<u64, ConfigError> {
        let (s, raw) = self.raw(key);
        let Kind::Number { default, range, unit } = &s.kind else {
            panic!("{key} is not a number");
        };
        let value = match raw {
            Some(Raw::Text(text)) => text
                .trim()
                .parse::<u64>()
                .map_err(|_| bad(key, format!("\"{text}\" is not a whole number of {unit}")))?,
            Some(Raw::Number(n)) => *n,
            _ => *default,
        };
        if !range.contains(&value) {
            return Err(bad(
                key,
                format!(
                    "{value} is out of range; use {} to {} {unit}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(value)
    }
}
