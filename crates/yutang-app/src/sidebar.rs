//! The chat sidebar (聊天工具栏, issue #23 item 2): what the page WeCom opens beside a customer
//! chat or a customer group chat needs from Yutang.
//!
//! - **JS-SDK signatures.** [`Sidebar::jssdk_config`] signs the sidebar page's address with the
//!   corp's `jsapi_ticket` (for `wx.config`) and the self-built app's (for `wx.agentConfig`):
//!   `getCurExternalContact`, `getCurExternalChat` and `sendChatMessage` all need the app
//!   identity. The tickets are the WeCom client's, cached with a safety margin and fetched by
//!   one caller at a time (WeCom allows 400 fetches an hour per corp); Yutang signs only its own
//!   pages ([`yutang_core::sidebar::page_url`]) and never logs a ticket.
//! - **The customer card** ([`Sidebar::contact`]): the customer WeCom names by
//!   `external_userid`, in the caller's scope only (anyone else is 404, so a guide cannot look
//!   up another guide's customer by pasting an id), with what a guide needs in a chat: tags,
//!   the guides who follow them, the last orders, unused coupons, points and tier, notes, the
//!   last touches and the caller's open tasks on them (due first), and what the caller may do.
//! - **The group card** ([`Sidebar::group`]): a group the caller owns or is in (a store manager:
//!   their store's; HQ: all), its members, which of them are customers the caller sees (only
//!   those are named), and the caller's open group-SOP tasks that name the group.
//! - **Sending a material** ([`Sidebar::message`]): the `sendChatMessage` argument for a
//!   material, through the guide's tracked link for this customer when it is a page, so opens
//!   and forwards count like any other tracked link.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::identity::{Identity, IdentityKind};
use yutang_core::ids::CustomerId;
use yutang_core::sidebar::{self as core, JS_API_LIST, Sendable};
use yutang_core::staff::{Permission, Role};
use yutang_store::customers::{CustomerRow, FollowRow};
use yutang_store::events::EventRow;
use yutang_store::orders::OrderRow;
use yutang_store::tags::CustomerTagRow;
use yutang_wecom::client::api::{TicketKind, jssdk_signature};

use crate::audit::Page;
use crate::customers::NoteView;
use crate::error::{AppError, Result};
use crate::guide_tasks::{TaskQuery, TaskView};
use crate::loyalty::tiers::CustomerTierView;
use crate::promotions::coupons::{CouponView, TemplateView};
use crate::{Actor, App};

/// Orders, notes and touches the card shows.
const RECENT_ORDERS: usize = 5;
const RECENT_NOTES: i64 = 5;
const RECENT_TOUCHES: i64 = 10;
/// The caller's open tasks the cards show.
const OPEN_TASKS: i64 = 20;

/// The chat sidebar's use cases.
pub struct Sidebar<'a>(&'a App);

impl std::ops::Deref for Sidebar<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn sidebar(&self) -> Sidebar<'_> {
        Sidebar(self)
    }
}

/// One JS-SDK signature (`timestamp` in seconds, as WeCom wants it).
#[derive(Debug, Clone, Serialize)]
pub struct Signature {
    pub timestamp: i64,
    pub nonce_str: String,
    pub signature: String,
}

/// What `ww.register` needs.
#[derive(Debug, Clone, Serialize)]
pub struct JssdkConfig {
    pub corp_id: String,
    pub agent_id: i64,
    pub js_api_list: Vec<&'static str>,
    /// The address signed (without its fragment).
    pub url: String,
    /// For `wx.config`, with the corp's ticket.
    pub config: Signature,
    /// For `wx.agentConfig`, with the app's ticket.
    pub agent_config: Signature,
}

/// What the caller may do from the card.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Abilities {
    pub tag: bool,
    pub coupon: bool,
    pub note: bool,
}

/// The customer card beside a one-to-one chat.
#[derive(Debug, Clone, Serialize)]
pub struct ContactCard {
    /// Phones masked.
    pub customer: CustomerRow,
    pub tags: Vec<CustomerTagRow>,
    /// The guides who follow the customer (the owner first).
    pub guides: Vec<FollowRow>,
    pub orders: Vec<OrderRow>,
    pub order_total: i64,
    /// Coupons the customer can still use.
    pub coupons: Vec<CouponView>,
    pub points_balance: i64,
    pub tier: Option<CustomerTierView>,
    pub notes: Vec<NoteView>,
    /// The last touches on the timeline, newest first.
    pub touches: Vec<EventRow>,
    /// The caller's open tasks on this customer, due first.
    pub tasks: Vec<TaskView>,
    pub can: Abilities,
}

/// A member of a group as the sidebar shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupMember {
    /// `customer` (a WeCom customer of the corp), `staff` or `other`.
    pub kind: &'static str,
    /// The customer's or staff member's name: only for customers the caller sees and staff.
    pub name: Option<String>,
    /// The customer, when the caller sees them (a link to their card).
    pub customer_id: Option<i64>,
    pub join_time: i64,
}

/// The group card beside a customer group chat.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCard {
    pub id: i64,
    pub chat_id: String,
    pub name: String,
    pub owner_staff_id: Option<i64>,
    pub owner_name: Option<String>,
    /// Current members, and how many of them are customers.
    pub members: i64,
    pub customers: i64,
    /// Customers the caller sees.
    pub my_customers: i64,
    pub member_list: Vec<GroupMember>,
    /// The caller's open group-SOP tasks that name this group.
    pub tasks: Vec<TaskView>,
}

/// A material as `ww.sendChatMessage` takes it.
#[derive(Debug, Clone, Serialize)]
pub struct ChatMessage {
    pub material_id: i64,
    /// The tracked link's token, when the material goes as a page.
    pub link_token: Option<String>,
    /// The argument of `ww.sendChatMessage`.
    pub message: serde_json::Value,
}

fn nonce() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn not_configured() -> AppError {
    AppError::Unavailable {
        code: "wecom_not_configured",
        message: "WeCom is not configured (corp id and a self-built app's AgentId and secret)"
            .into(),
    }
}

fn customer_not_found() -> AppError {
    AppError::NotFound { what: "customer" }
}

fn group_not_found() -> AppError {
    AppError::NotFound {
        what: "customer group",
    }
}

/// A WeCom `external_userid` as the sidebar takes it (`external_userid` names the field).
fn external(value: &str) -> Result<Identity> {
    Identity::parse(IdentityKind::WecomExternal.as_str(), None, value)
        .map_err(|e| AppError::Invalid(FieldError::new("external_userid", e.code, e.message)))
}

impl Sidebar<'_> {
    /// The JS-SDK registration for the page at `url` (see the module's doc). `origin` is the
    /// site's public origin; any signed-in staff member may ask (the signature only lets the
    /// page call the JS-SDK; what it shows still goes through the scoped calls below).
    pub async fn jssdk_config(
        &self,
        actor: &Actor,
        url: &str,
        origin: &str,
    ) -> Result<JssdkConfig> {
        if actor.staff_id().is_none() {
            return Err(AppError::Forbidden);
        }
        let url = core::page_url(url, origin)?;
        let Some((agent_id, client)) = self.wecom().app_client().await? else {
            return Err(not_configured());
        };
        let corp_id = self.wecom().wecom_config().await?.corp_id.clone();
        let corp_ticket = client
            .jsapi_ticket(TicketKind::Corp)
            .await
            .map_err(|e| crate::messaging::wecom_unavailable(&e))?;
        let app_ticket = client
            .jsapi_ticket(TicketKind::Agent)
            .await
            .map_err(|e| crate::messaging::wecom_unavailable(&e))?;
        let timestamp = self.now() / 1000;
        let sign = |ticket: &str| {
            let nonce_str = nonce();
            Signature {
                signature: jssdk_signature(ticket, &nonce_str, timestamp, &url),
                nonce_str,
                timestamp,
            }
        };
        Ok(JssdkConfig {
            config: sign(&corp_ticket),
            agent_config: sign(&app_ticket),
            corp_id,
            agent_id,
            js_api_list: JS_API_LIST.to_vec(),
            url,
        })
    }

    /// The customer WeCom calls `external_userid`, if the caller sees them; 404 otherwise.
    pub async fn customer_of(&self, actor: &Actor, external_userid: &str) -> Result<CustomerId> {
        let identity = external(external_userid)?;
        let id = yutang_store::customers::find_by_identity(&self.db, &identity)
            .await?
            .ok_or_else(customer_not_found)?;
        self.customers()
            .visible_customer(actor, CustomerId(id))
            .await
            .map_err(|e| match e {
                AppError::NotFound { .. } => customer_not_found(),
                other => other,
            })
    }

    /// The customer card (see the module's doc).
    pub async fn contact(&self, actor: &Actor, external_userid: &str) -> Result<ContactCard> {
        let id = self.customer_of(actor, external_userid).await?;
        let customers = self.customers();
        let c360 = customers.customer_360(actor, id).await?;
        let mut guides = c360.follows;
        guides.retain(|f| f.state == "active");
        guides.sort_by_key(|f| (!f.is_owner, f.since));
        let tags = self.tags().customer_tags(actor, id.0).await?;
        let coupons = self
            .coupons()
            .customer_coupons(actor, id)
            .await?
            .into_iter()
            .filter(|c| c.row.state == "claimed" && c.row.valid_until > self.now())
            .collect();
        let points_balance = self.points().account(actor, id).await?.balance;
        let tier = self.tiers().customer_tier(actor, id).await?;
        let tier = tier.tier.is_some().then_some(tier);
        let notes = customers.notes(actor, id, RECENT_NOTES, None).await?;
        let touches = customers
            .timeline(
                actor,
                id,
                None,
                Page {
                    number: 1,
                    size: RECENT_TOUCHES,
                },
            )
            .await?
            .items;
        let tasks = self.my_open_tasks(actor, Some(id.0)).await?;
        let mut orders = c360.recent_orders;
        orders.truncate(RECENT_ORDERS);
        Ok(ContactCard {
            customer: c360.customer,
            tags,
            guides,
            orders,
            order_total: c360.order_total,
            coupons,
            points_balance,
            tier,
            notes,
            touches,
            tasks,
            can: Abilities {
                tag: actor.can(Permission::TagCustomers),
                coupon: actor.can(Permission::IssueCoupons),
                note: actor.can(Permission::TagCustomers),
            },
        })
    }

    /// The active coupon templates the caller may give from the card (导购发券).
    pub async fn coupon_templates(&self, actor: &Actor) -> Result<Vec<TemplateView>> {
        if !actor.can(Permission::IssueCoupons) {
            return Err(AppError::Forbidden);
        }
        let mut all = self.coupons().coupon_templates(actor).await?;
        all.retain(|t| t.row.status == "active");
        Ok(all)
    }

    /// The caller's open tasks (on `customer`, or every one), due first.
    async fn my_open_tasks(&self, actor: &Actor, customer: Option<i64>) -> Result<Vec<TaskView>> {
        let Some(me) = actor.staff_id() else {
            return Ok(Vec::new());
        };
        let mut tasks = self
            .guide_tasks()
            .list(
                actor,
                &TaskQuery {
                    state: Some("open".into()),
                    staff_id: Some(me.0),
                    customer_id: customer,
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await?
            .items;
        tasks.sort_by_key(|t| (t.due_at, t.id));
        tasks.truncate(usize::try_from(OPEN_TASKS).unwrap_or(20));
        Ok(tasks)
    }

    /// The group card for the group WeCom calls `chat_id` (see the module's doc).
    pub async fn group(&self, actor: &Actor, chat_id: &str) -> Result<GroupCard> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        if chat_id.is_empty()
            || chat_id.len() > 128
            || !chat_id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(FieldError::new(
                "chat_id",
                "invalid_chat_id",
                "1–128 visible ASCII characters",
            )
            .into());
        }
        let group = yutang_store::wecom::groups::by_chat_id(&self.db, chat_id)
            .await?
            .filter(|g| g.dismissed_at.is_none())
            .ok_or_else(group_not_found)?;
        let members = yutang_store::wecom::groups::members(&self.db, group.id).await?;
        let joined: Vec<_> = members
            .into_iter()
            .filter(|m| m.state == "joined")
            .collect();
        let me = actor.staff_id().map(|s| s.0);
        let owner = match group.owner_staff_id {
            Some(s) => yutang_store::staff::get(&self.db, s).await.ok(),
            None => None,
        };
        let is_member = joined
            .iter()
            .any(|m| m.staff_id.is_some() && m.staff_id == me);
        let visible = match actor.data_scope() {
            DataScope::All => true,
            DataScope::Store(store) => {
                is_member || owner.as_ref().is_some_and(|o| o.store_id == Some(store.0))
            }
            DataScope::Own { staff, .. } => is_member || group.owner_staff_id == Some(staff.0),
            DataScope::Nothing => false,
        };
        if !visible {
            return Err(group_not_found());
        }
        let scope = crate::customers::scope_of(actor).unwrap_or_default();
        let mine: std::collections::HashMap<i64, String> =
            yutang_store::customers::group_members_in_scope(&self.db, group.id, scope)
                .await?
                .into_iter()
                .collect();
        let mut staff_names = std::collections::HashMap::new();
        for m in &joined {
            if let Some(s) = m.staff_id
                && let std::collections::hash_map::Entry::Vacant(e) = staff_names.entry(s)
                && let Ok(row) = yutang_store::staff::get(&self.db, s).await
            {
                e.insert(row.display_name);
            }
        }
        let member_list: Vec<GroupMember> = joined
            .iter()
            .map(|m| {
                if let Some(c) = m.customer_id {
                    let name = mine.get(&c).cloned();
                    GroupMember {
                        kind: "customer",
                        customer_id: name.is_some().then_some(c),
                        name,
                        join_time: m.join_time,
                    }
                } else if let Some(s) = m.staff_id {
                    GroupMember {
                        kind: "staff",
                        name: staff_names.get(&s).cloned(),
                        customer_id: None,
                        join_time: m.join_time,
                    }
                } else {
                    GroupMember {
                        kind: "other",
                        name: None,
                        customer_id: None,
                        join_time: m.join_time,
                    }
                }
            })
            .collect();
        let customers = joined.iter().filter(|m| m.customer_id.is_some()).count();
        let label = if group.name.is_empty() {
            &group.chat_id
        } else {
            &group.name
        };
        let tasks = self
            .my_open_tasks(actor, None)
            .await?
            .into_iter()
            .filter(|t| {
                t.customer_id.is_none()
                    && t.source_ref.ends_with(":group")
                    && t.body.lines().any(|l| {
                        l.strip_prefix("发到：")
                            .is_some_and(|names| names.split('、').any(|n| n == label))
                    })
            })
            .collect();
        Ok(GroupCard {
            id: group.id,
            chat_id: group.chat_id.clone(),
            name: group.name.clone(),
            owner_staff_id: group.owner_staff_id,
            owner_name: owner.map(|o| o.display_name),
            members: i64::try_from(joined.len()).unwrap_or(i64::MAX),
            customers: i64::try_from(customers).unwrap_or(i64::MAX),
            my_customers: i64::try_from(mine.len()).unwrap_or(i64::MAX),
            member_list,
            tasks,
        })
    }

    /// What to hand `ww.sendChatMessage` to send material `material_id` into the chat with the
    /// customer `external_userid` (or into a group chat: `None`). Pages go through the
    /// caller's tracked link (made once per guide, material and customer); `origin` is the
    /// site's public origin the link lives under.
    pub async fn message(
        &self,
        actor: &Actor,
        material_id: i64,
        external_userid: Option<&str>,
        origin: &str,
    ) -> Result<ChatMessage> {
        // The link is the sender's own: a staff member who sends, not an integration's token.
        if actor.staff_id().is_none() || actor.caller.role == Role::Analyst {
            return Err(AppError::Forbidden);
        }
        let customer = match external_userid {
            Some(e) => Some(self.customer_of(actor, e).await?.0),
            None => None,
        };
        let m = self.materials().get(actor, material_id).await?;
        if m.status != "active" {
            return Err(AppError::Rule {
                code: "material_archived",
                message: "the material is archived".into(),
            });
        }
        let origin = origin.trim_end_matches('/');
        let image_url = m.image_url.as_ref().map(|p| format!("{origin}{p}"));
        let (link_token, tracked) = if core::needs_link(&m.kind) {
            let link = self
                .radar()
                .link(actor, material_id, None, customer)
                .await?;
            let url = format!("{origin}{}", link.path);
            (Some(link.token), url)
        } else {
            (None, String::new())
        };
        let message = core::chat_message(
            &Sendable {
                kind: &m.kind,
                title: &m.title,
                body: &m.body,
                image_url: image_url.as_deref(),
                appid: m.appid.as_deref(),
                page: m.page.as_deref(),
            },
            &tracked,
        );
        Ok(ChatMessage {
            material_id,
            link_token,
            message,
        })
    }
}
