"""Deterministic scenarios: `generate_scenario` for volume, `build_demo_scenario` for the demo.

Regenerate the shipped demo file with `write_demo()`.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from instagram_service.emulator.scenario import (
    DAY,
    SCENARIO_DIR,
    Scenario,
    ScenarioAccount,
    ScenarioChild,
    ScenarioMedia,
    ScenarioToken,
)

EPOCH = datetime(2025, 6, 1, 17, 30, tzinfo=UTC)
SIZES = [(1080, 1080), (1080, 1350), (1080, 566)]
REEL_SIZE = (1080, 1920)

SALON = {
    "before_after": [
        "Before ➡️ after: from brassy to a soft {shade} ✨ {hours} hours in the chair, worth "
        "every minute. Swipe for the before! #balayage #beforeandafter #hairtransformation",
        "Transformation Tuesday 💇‍♀️ {cm} cm off and a {cut} for @{client}. #beforeandafter "
        "#haircut #salonlife",
    ],
    "portfolio": [
        "Fresh {cut} with face-framing layers 🤍 Stylist: @{stylist} #{shade_tag} #hairinspo",
        "Lived-in {shade}, low maintenance, high shine. #portfolio #colorist #{shade_tag}",
    ],
    "tutorial": [
        "Tutorial: heatless curls in 3 steps 🌀 1. damp hair 2. twist 3. sleep. Save this! "
        "#hairtutorial #heatlesscurls",
        "How we tone {shade} at the bowl ⏱ Sound on 🔊 #colortutorial #reels",
    ],
    "product": [
        "New on the shelf: {product} 🧴 sulfate-free and vegan. Ask us at your next visit! "
        "#haircare #{product_tag}",
    ],
    "personal": [
        "Monday at the studio ☕️ Say hi to {name}, who joined the team this month! #teamwork",
        "Merci à tous pour cette belle année ! Très bientôt de nouvelles dates 🇫🇷 #salonlife",
        "今日もありがとうございました 🌸 Thank you for a wonderful week, see you soon.",
    ],
    "promo": [
        "Bookings for {month} are open 📅 Link in bio. #booknow #{city}salon",
    ],
}
CERAMICS = {
    "before_after": [
        "From a lump of clay to a finished mug: throw, trim, glaze, fire 🔥 Swipe to see every "
        "stage. #pottery #process #beforeandafter",
    ],
    "portfolio": [
        "The {glaze} series, fresh out of the kiln ✨ #ceramics #handmade #{glaze_tag}",
        "Stacked and ready for the market 🏺 Glaze: {glaze}. #wheelthrown #studiopottery",
    ],
    "tutorial": [
        "How to centre clay in 60 seconds ⏱ #potterytutorial #wheelthrowing",
        "Trimming a foot ring, start to finish. Sound on 🔊 #pottery #asmr",
    ],
    "product": [
        "Shop update Friday 6 pm CET: {n_mugs} mugs, {n_bowls} bowls 🛒 Link in bio. "
        "#shopupdate #handmadeceramics",
    ],
    "personal": [
        "Studio dog approves of the new shelves 🐶 Collab with @{client} coming soon! #studiolife",
        "¡Gracias a todos los que vinieron al taller! Nos vemos en {month} 🙌 #workshop",
    ],
    "promo": [
        "Wheel workshop in {month}: 6 places left ✋ Beginners welcome. #{city}pottery",
    ],
}
WORDS = {
    "shade": ["honey blonde", "copper", "ash brown", "rosé gold", "espresso", "icy platinum"],
    "cut": ["bob", "shag", "pixie cut", "curtain fringe", "lob", "butterfly cut"],
    "product": ["Fig & Oat Repair Mask", "Argan Shine Oil", "Curl Cream Nº3", "Scalp Serum"],
    "glaze": ["celadon", "tenmoku", "speckled oat", "shino", "cobalt drip", "ash white"],
    "name": ["Léa", "Sofia", "Maja", "Chloé", "Aiko", "Zoë"],
    "client": ["camille.rs", "nora_studio", "jonas.makes", "lisa.k", "ateliermarie"],
    "stylist": ["lumiere.by.ines", "marco.cuts", "hair.by.ana"],
    "month": ["March", "April", "May", "September", "October", "December"],
    "city": ["paris", "berlin", "lyon", "vienna"],
}


def _fill(rng: random.Random, template: str) -> str:
    pick = {k: rng.choice(v) for k, v in WORDS.items()}
    return template.format(
        **pick,
        hours=rng.randint(2, 5),
        cm=rng.randint(5, 25),
        n_mugs=rng.randint(8, 30),
        n_bowls=rng.randint(4, 20),
        shade_tag=pick["shade"].replace(" ", "").replace("é", "e"),
        glaze_tag=pick["glaze"].replace(" ", ""),
        product_tag=pick["product"].split()[0].lower(),
    )


def _shortcode(media_id: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    digest = hashlib.sha256(media_id.encode()).digest()
    return "C" + "".join(alphabet[b % 64] for b in digest[:10])


def _media(
    rng: random.Random, media_id: str, when: datetime, theme: dict[str, list[str]], kind: str
) -> ScenarioMedia:
    category = {
        "REELS": rng.choice(["tutorial", "before_after", "personal"]),
        "VIDEO": rng.choice(["tutorial", "promo"]),
        "CAROUSEL_ALBUM": rng.choice(["before_after", "portfolio", "product"]),
    }.get(kind, rng.choice(["portfolio", "product", "personal", "promo", "before_after"]))
    caption = None if rng.random() < 0.08 else _fill(rng, rng.choice(theme[category]))
    likes: int | None = None if rng.random() < 0.07 else int(rng.paretovariate(1.3) * 40)
    w, h = rng.choice(SIZES)
    media = ScenarioMedia(
        id=media_id,
        media_type="VIDEO" if kind == "REELS" else kind,
        media_product_type="REELS" if kind == "REELS" else "FEED",
        caption=caption,
        timestamp=when,
        shortcode=_shortcode(media_id),
        like_count=likes,
        comments_count=int(rng.paretovariate(1.6) * 3) - 3,
        is_comment_enabled=rng.random() > 0.05,
        width=w,
        height=h,
    )
    if kind in ("REELS", "VIDEO"):
        media.width, media.height = REEL_SIZE if kind == "REELS" else (w, h)
    if kind == "REELS":
        media.is_shared_to_feed = rng.random() > 0.3
        media.media_url_withheld = rng.random() < 0.3  # licensed audio
    if kind == "IMAGE" and rng.random() < 0.3:
        media.alt_text = "Photo of " + (caption or "the studio").split(".")[0][:80].lower()
    if kind == "CAROUSEL_ALBUM":
        cw, ch = rng.choice(SIZES[:2])
        media.children = [
            ScenarioChild(
                id=f"{media_id}{i:02d}",
                media_type="VIDEO" if i > 0 and rng.random() < 0.2 else "IMAGE",
                width=cw,
                height=ch,
            )
            for i in range(rng.randint(2, 6))
        ]
    return media


KINDS = ["IMAGE"] * 9 + ["VIDEO"] * 2 + ["REELS"] * 4 + ["CAROUSEL_ALBUM"] * 5


def generate_media(
    rng: random.Random, prefix: str, count: int, theme: dict[str, list[str]]
) -> list[ScenarioMedia]:
    """`count` posts, newest first, of every kind; ids are `prefix` + a counter."""
    first = list(KINDS)
    rng.shuffle(first)  # every kind shows up in the newest posts
    when, out = EPOCH, []
    for i in range(count):
        kind = first[i] if i < len(first) else rng.choice(KINDS)
        out.append(_media(rng, f"{prefix}{count - i:07d}", when, theme, kind))
        when -= timedelta(seconds=int(rng.uniform(5, 60) * 3600))
    _make_edge_cases(out)
    return out


def _make_edge_cases(media: list[ScenarioMedia]) -> None:
    """Whatever the dice said, an account shows each awkward case at least once."""
    reels = [m for m in media if m.media_product_type == "REELS"]
    carousels = [m for m in media if m.media_type == "CAROUSEL_ALBUM"]
    images = [m for m in media if m.media_type == "IMAGE"]
    if reels:
        reels[0].media_url_withheld = True
    if carousels:
        carousels[0].children[-1].media_type = "VIDEO"
    if len(images) > 3:
        images[1].like_count = None
        images[2].caption = None


def generate_scenario(n_accounts: int = 1, posts_per_account: int = 100, seed: int = 0) -> Scenario:
    """A large deterministic scenario; images are only drawn when the CDN is asked."""
    rng = random.Random(seed)
    accounts = []
    for a in range(n_accounts):
        user_id = f"178414{seed % 1000:03d}{a:08d}"
        accounts.append(
            ScenarioAccount(
                user_id=user_id,
                id=f"2{seed % 1000:03d}{a:012d}",
                username=f"studio_{seed}_{a}",
                name=f"Generated Studio {a}",
                followers_count=rng.randint(200, 90000),
                follows_count=rng.randint(50, 900),
                page_id=f"10{seed % 1000:03d}{a:010d}",
                call_budget=100_000,
                tokens=[ScenarioToken(token=f"IGAAgen{seed}x{a}longlived", age_s=2 * DAY)],
                media=generate_media(
                    rng,
                    f"18{a:03d}{seed % 100:02d}",
                    posts_per_account,
                    SALON if a % 2 == 0 else CERAMICS,
                ),
            )
        )
    return Scenario(name=f"generated:{posts_per_account}:{n_accounts}", accounts=accounts)


def build_demo_scenario() -> Scenario:
    """Two accounts, a hair salon and a ceramics studio with its shop: 66 posts in all."""
    rng = random.Random(2025)
    salon = ScenarioAccount(
        user_id="17841400000000101",
        id="26000000000000101",
        username="maison.lumiere.salon",
        name="Maison Lumière — Hair Studio",
        biography="Colour, cuts & care in Lyon ✂️ Book online 👇",
        website="https://maison-lumiere.example",
        followers_count=12840,
        follows_count=312,
        page_id="101000000000101",
        tokens=[ScenarioToken(token="IGAAdemoLumiereLongLivedToken0001", age_s=3 * DAY)],  # noqa: S106
        media=generate_media(rng, "1790000101", 34, SALON),
    )
    studio = ScenarioAccount(
        user_id="17841400000000202",
        id="26000000000000202",
        username="clay.and.kiln",
        name="Clay & Kiln Ceramics",
        account_type="MEDIA_CREATOR",
        biography="Wheel-thrown stoneware. Shop updates on Fridays 🏺",
        website="https://clayandkiln.example",
        followers_count=4821,
        follows_count=590,
        page_id="101000000000202",
        tokens=[ScenarioToken(token="IGAAdemoClayKilnLongLivedToken0002", age_s=3 * DAY)],  # noqa: S106
        media=generate_media(rng, "1790000202", 32, CERAMICS),
    )
    # Stories are never listed by /media: they make a page shorter than `limit`.
    story = studio.media[5].model_copy(
        update={"id": "17900002029999901", "media_product_type": "STORY", "caption": None}
    )
    studio.media.insert(6, story)
    return Scenario(name="demo", accounts=[salon, studio])


def write_demo() -> None:
    (SCENARIO_DIR / "demo.json").write_text(
        build_demo_scenario().to_json() + "\n", encoding="utf-8"
    )


def load_scenario(spec: str) -> Scenario:
    """`demo`, `generated:N` (one account, N posts), `generated:N:A` (A accounts), or a path."""
    if spec.startswith("generated:"):
        parts = spec.split(":")[1:]
        posts = int(parts[0])
        accounts = int(parts[1]) if len(parts) > 1 else 1
        return generate_scenario(accounts, posts, seed=0)
    path = SCENARIO_DIR / f"{spec}.json" if "/" not in spec and "." not in spec else Path(spec)
    return Scenario.from_json(path.read_bytes())


if __name__ == "__main__":
    write_demo()
