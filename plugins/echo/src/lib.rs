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
