//! The example plugin: `/start` greets with a button, `/echo TEXT` repeats, the button
//! answers. Small enough to copy as a starting point.

use wharf_sdk::{prelude::*, telegram};

struct Echo;

impl Plugin for Echo {
    fn describe() -> Manifest {
        Manifest::new("echo", env!("CARGO_PKG_VERSION"))
            .command("start", "Say hello")
            .command("echo", "Repeat your words")
            .callback_prefix("echo")
    }

    fn handle(event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
        match event {
            Event::Message(msg) => match msg.command {
                Some(cmd) if cmd.name == "start" => {
                    let hello = Outgoing::text("Hello! I repeat what you say.")
                        .keyboard(Keyboard::new().button("Ping", "ping"));
                    telegram::send(msg.chat.id, &hello)?;
                    Ok(Flow::Stop)
                }
                Some(cmd) if cmd.name == "echo" && !cmd.args.is_empty() => {
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
