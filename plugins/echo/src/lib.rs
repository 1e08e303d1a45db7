//! The example plugin: `/echo TEXT` repeats the text, `/echo` alone explains itself with
//! a button, the button answers. Small enough to copy as a starting point.

use wharf_sdk::{prelude::*, telegram};

struct Echo;

impl Plugin for Echo {
    fn describe() -> Manifest {
        Manifest::new("echo", env!("CARGO_PKG_VERSION")).command("echo", "Repeat your words").callback_prefix("echo")
    }

    fn handle(event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
        match event {
            Event::Message(msg) => match msg.command {
                Some(cmd) if cmd.name == "echo" && cmd.args.is_empty() => {
                    let how = Outgoing::text("Send /echo TEXT and I will repeat it.")
                        .keyboard(Keyboard::new().button("Ping", "ping"));
                    telegram::send(msg.chat.id, &how)?;
                    Ok(Flow::Stop)
                }
                Some(cmd) if cmd.name == "echo" => {
                    telegram::send_text(msg.chat.id, &cmd.args)?;
                    Ok(Flow::Stop)
                }
                _ => Ok(Flow::Continue),
            },
            Event::Callback(cb) if cb.data == "ping" => {
                telegram::answer_callback(&cb.id, Some("pong"))?;
                Ok(Flow::Stop)
            }
            _ => Ok(Flow::Continue),
        }
    }
}

wharf_sdk::export_plugin!(Echo);

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_sdk::testing::{Harness, press};

    #[test]
    fn echo_alone_explains_itself_with_a_button_that_answers_pong() {
        let mut bot = Harness::<Echo>::new();
        assert_eq!(bot.say(7, "/echo"), Ok(Flow::Stop));
        let how = &bot.messages(7)[0];
        assert_eq!(how.text, "Send /echo TEXT and I will repeat it.");
        assert_eq!(how.buttons(), ["Ping"]);

        assert_eq!(bot.click(7, "Ping"), Ok(Flow::Stop));
        let answers = bot.answers();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].text.as_deref(), Some("pong"));
    }

    #[test]
    fn echo_repeats_and_leaves_the_rest_to_other_plugins() {
        let mut bot = Harness::<Echo>::new();
        assert_eq!(bot.say(7, "/echo hello  there"), Ok(Flow::Stop));
        assert_eq!(bot.texts(7), ["hello  there"]);
        for other in ["/start", "hello", "/wallet"] {
            assert_eq!(bot.say(7, other), Ok(Flow::Continue), "{other}");
        }
        assert_eq!(bot.send(press(7, 1, "other")), Ok(Flow::Continue));
        assert_eq!(bot.outbox().len(), 1);
    }
}
