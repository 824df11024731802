//! Chat templates: the model's Jinja template rendered with [`minijinja`], the way
//! `transformers`' `apply_chat_template` renders it (`trim_blocks`, `lstrip_blocks`, loop
//! controls, Python string methods, `raise_exception`).

use anyhow::{Context, Result};
use minijinja::{Environment, Error, ErrorKind, Value};

use crate::datasets::ChatMessage;

/// A compiled chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

const NAME: &str = "chat_template";

impl ChatTemplate {
    /// Compile `source`; `bos_token`/`eos_token` are the strings the template sees under those
    /// names (empty when the model has none).
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<ChatTemplate> {
        let mut env = Environment::new();
        let syntax = env
            .syntax()
            .to_builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .context("cannot configure the chat-template syntax")?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<Value, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_template_owned(NAME, source.to_string())
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .context("chat template does not compile")?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
        })
    }

    /// Render a conversation, with `add_generation_prompt` set so the text ends where the
    /// assistant's answer begins.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let messages: Value = messages
            .iter()
            .map(|m| {
                Value::from_pairs([
                    ("role", Value::from(m.role.as_str())),
                    ("content", Value::from(m.content.as_str())),
                ])
            })
            .collect();
        let ctx = Value::from_pairs([
            ("messages", messages),
            ("add_generation_prompt", Value::from(add_generation_prompt)),
            ("bos_token", Value::from(self.bos_token.as_str())),
            ("eos_token", Value::from(self.eos_token.as_str())),
        ]);
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        template
            .render(ctx)
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .context("cannot render the chat template")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(role: &str, content: &str) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }

    #[test]
    fn blocks_are_trimmed_like_transformers() {
        // Expected strings are Jinja2's output with transformers' settings
        // (trim_blocks=True, lstrip_blocks=True).
        let src =
            "{% for m in messages %}\n    {% if m.role == 'user' %}\n[U]{{ m.content }}\n    \
                   {% endif %}\n{% endfor %}";
        let t = ChatTemplate::new(src, "", "").unwrap();
        assert_eq!(t.render(&[msg("user", "hi")], false).unwrap(), "[U]hi\n");
        // lstrip_blocks leaves indentation before `{{ }}` alone.
        let src =
            "{% for m in messages %}\n  {{ m.role }}: {{ m['content'] | trim }}\n{% endfor %}\
                   {% if add_generation_prompt %}assistant:{% endif %}";
        let t = ChatTemplate::new(src, "<s>", "</s>").unwrap();
        let out = t
            .render(&[msg("user", " hi "), msg("assistant", "yo")], true)
            .unwrap();
        assert_eq!(out, "  user: hi\n  assistant: yo\nassistant:");
    }

    #[test]
    fn python_methods_and_raise_exception() {
        let src =
            "{% if messages[0]['role'] != 'user' %}{{ raise_exception('first must be user') }}\
                   {% endif %}{{ bos_token }}{{ messages[0]['content'].strip().upper() }}";
        let t = ChatTemplate::new(src, "<s>", "</s>").unwrap();
        assert_eq!(t.render(&[msg("user", "  ok ")], false).unwrap(), "<s>OK");
        let err = format!("{:#}", t.render(&[msg("system", "x")], false).unwrap_err());
        assert!(err.contains("first must be user"), "{err}");
    }

    #[test]
    fn syntax_error_is_reported() {
        let err = ChatTemplate::new("{% for m in messages %}", "", "")
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("chat template does not compile"));
    }
}
