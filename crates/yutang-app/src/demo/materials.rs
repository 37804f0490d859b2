//! The demo brand's material library (素材库): the folders and materials a guide picks from —
//! member-day posters, the daily group rhythm's copy, a new-arrivals link and the brand's
//! mini-program card — so the 素材库 pages and tracked links have something to show.

use yutang_core::materials::MaterialForm;

use super::Demo;
use crate::Actor;
use crate::error::Result;

/// The demo's mini-program (an appid of the right shape; the demo opens nothing).
const DEMO_APPID: &str = "wx00d3e0a9b1c2d3e4";

impl Demo<'_> {
    pub(crate) async fn seed_demo_materials(&self) -> Result<usize> {
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
        let n = forms.len();
        for f in forms {
            m.create(&sys, f).await?;
        }
        Ok(n)
    }
}
