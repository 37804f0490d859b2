//! Acquisition (引流): the channels that bring customers into the pool, the live codes that
//! carry a channel into WeCom, the welcome a new contact gets, and who is credited with it.
//!
//! Everything here is a pure rule: parsing specs at the edge, choosing the guides behind a
//! code from its settings and today's counters ([`live_codes::rotation`]), and filling in a
//! welcome text. The store keeps the rows; the app calls WeCom.

pub mod channels;
pub mod live_codes;
pub mod poster;
pub mod referrals;
pub mod settings;
pub mod stats;
pub mod welcome;

pub use channels::{ChannelKind, ChannelSpec};
pub use live_codes::{CodeKind, GuideSlot, LiveCodeSpec, OffReason, Rotation, Schedule, Spread};
pub use poster::PosterText;
pub use settings::AcquisitionSettings;
pub use welcome::{Welcome, WelcomeAttachment};
