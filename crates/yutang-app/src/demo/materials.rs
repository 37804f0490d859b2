//! The demo brand's material library (素材库): the folders and materials a guide picks from —
//! member-day posters, the daily group rhythm's copy, a new-arrivals link and the brand's
//! mini-program card — so the 素材库 pages and tracked links have something to show — and
//! half a year of customers reading what their guides sent (内容种草).

use yutang_core::analytics::DAY_MS;
use yutang_core::materials::MaterialForm;
use yutang_store::events::append_in;
use yutang_store::radar as radar_store;

use super::Demo;
use crate::Actor;
use crate::error::Result;

/// The demo's mini-program (an appid of the right shape; the demo opens nothing).
const DEMO_APPID: &str = "wx00d3e0a9b1c2d3e4";
/// Every how many customers (by id) was sent the poster or the new-arrivals page.
const READER_EVERY: i64 = 7;
/// At most this many of them.
const READERS: i64 = 2_000;

impl Demo<'_> {
    /// The library; the ids of the member-day poster and the new-arrivals page.
    pub(crate) async fn seed_demo_materials(&self) -> Result<[i64; 2]> {
        let sys = Actor::system();
        let m = self.materials();
        let member_day = m.create_folder(&sys, "会员日", Some(1)).await?.id;
        let rhythm = m.create_folder(&sys, "社群日常", Some(2)).await?.id;
        let arrivals = m.create_folder(&sys, "新品上市", Some(3)).await?.id;
        // Plain colour cards made here: the demo loads nothing from elsewhere.
        let picture = async |rgb: [u8; 3]| -> Result<i64> {
            let png = yutang_core::media::solid_png(180, 240, rgb);
            Ok(self.media().upload_image(&sys, &png).await?.0.id)
        };
        let poster = picture([0xFF, 0x5A, 0x3C]).await?;
        let cover = picture([0x3C, 0x9A, 0xFF]).await?;
        let text = |title: &str, body: &str, folder: i64, tags: &[&str]| MaterialForm {
            kind: "text".into(),
            title: title.into(),
            body: Some(body.into()),
            tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
            folder_id: Some(folder),
            ..MaterialForm::default()
        };
        let forms = vec![
            MaterialForm {
                kind: "poster".into(),
                title: "周二会员日海报".into(),
                body: Some("每周二会员日：全场水果 8 折，积分双倍。".into()),
                media_id: Some(poster),
                tags: Some(vec!["会员日".into(), "海报".into()]),
                folder_id: Some(member_day),
                ..MaterialForm::default()
            },
            text(
                "会员日提醒话术",
                "明天就是会员日啦～全场 8 折、积分翻倍，记得来店里看看哦！",
                member_day,
                &["会员日", "话术"],
            ),
            text(
                "早安·今日到货",
                "早上好！今天到店的有海南金钻凤梨、丹东草莓，新鲜现切，欢迎下单～",
                rhythm,
                &["早安", "到货"],
            ),
            text(
                "午后秒杀预告",
                "下午 3 点群内秒杀：车厘子 2 斤装限量 50 份，提前定好闹钟！",
                rhythm,
                &["秒杀"],
            ),
            text(
                "晚安·明日预告",
                "今天辛苦啦，晚安～明天上午 10 点有新品试吃，到店即可参加。",
                rhythm,
                &["晚安"],
            ),
            MaterialForm {
                kind: "link".into(),
                title: "春季新品图鉴".into(),
                body: Some("十二种当季鲜果，一页看完产地与口感。".into()),
                url: Some("https://www.example.com/spring-arrivals".into()),
                media_id: Some(cover),
                tags: Some(vec!["新品".into()]),
                folder_id: Some(arrivals),
                ..MaterialForm::default()
            },
            MaterialForm {
                kind: "miniprogram".into(),
                title: "鱼塘鲜果小程序·下单".into(),
                appid: Some(DEMO_APPID.into()),
                page: Some("pages/index/index".into()),
                media_id: Some(cover),
                tags: Some(vec!["小程序".into()]),
                folder_id: Some(arrivals),
                ..MaterialForm::default()
            },
        ];
        let mut ids = Vec::with_capacity(forms.len());
        for f in forms {
            ids.push(m.create(&sys, f).await?.id);
        }
        Ok([ids[0], ids[5]])
    }

    /// A sample of customers were sent one of `materials` by their owning guide at some time
    /// in the past six months, and read it once to three times over the following days;
    /// every fifth forwarded it to a friend who read it too. Written as the radar writes a
    /// read (a view and the customer's `page_view` or `share` event, in one transaction), so
    /// that the material stats, the timelines and 内容种草 on the metrics page have figures.
    /// Returns the reads written.
    pub(crate) async fn seed_demo_reads(&self, materials: [i64; 2]) -> Result<usize> {
        let now = self.now();
        let sent = radar_store::owned_sample(&self.db, READER_EVERY, READERS).await?;
        let mut links = Vec::with_capacity(sent.len());
        for (i, (customer, staff)) in sent.into_iter().enumerate() {
            let i = i as i64;
            let material = materials[(i % 2) as usize];
            // Sent 5–180 days ago, in the afternoon (Beijing time).
            let at = now - (5 + (i * 37) % 176) * DAY_MS - (i % 5) * 3_600_000;
            let link = radar_store::link_for(
                &self.db,
                &crate::radar::new_token(),
                material,
                staff,
                customer,
                at,
            )
            .await?;
            links.push((i, link));
        }
        let mut titles = Vec::with_capacity(2);
        for id in materials {
            titles.push((id, yutang_store::materials::get(&self.db, id).await?.title));
        }
        let mut reads = 0;
        let mut tx = self.db.begin().await?;
        for (i, link) in links {
            let viewer = crate::radar::new_token();
            let title = titles
                .iter()
                .find(|(id, _)| *id == link.material_id)
                .map(|(_, t)| t.as_str())
                .unwrap_or_default();
            let read = |forwarded: bool| {
                serde_json::json!({
                    "material_id": link.material_id,
                    "title": title,
                    "tracked_link": true,
                    "forwarded": forwarded,
                })
                .to_string()
            };
            for k in 0..=(i % 3) {
                let at = link.created_at + 1_800_000 + k * (DAY_MS + 3_600_000);
                radar_store::insert_view_in(
                    &mut tx,
                    &link.token,
                    link.material_id,
                    &viewer,
                    false,
                    at,
                )
                .await?;
                append_in(
                    &mut tx,
                    link.customer_id,
                    "page_view",
                    at,
                    Some(link.staff_id),
                    &read(false),
                    at,
                )
                .await?;
                reads += 1;
            }
            if i % 5 == 0 {
                let at = link.created_at + 2 * 3_600_000;
                let friend = crate::radar::new_token();
                radar_store::insert_view_in(
                    &mut tx,
                    &link.token,
                    link.material_id,
                    &friend,
                    true,
                    at,
                )
                .await?;
                append_in(
                    &mut tx,
                    link.customer_id,
                    "share",
                    at,
                    Some(link.staff_id),
                    &read(true),
                    at,
                )
                .await?;
                reads += 1;
            }
        }
        tx.commit().await?;
        Ok(reads)
    }
}
