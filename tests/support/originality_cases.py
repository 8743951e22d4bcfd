"""Texts written for the originality check (issue 5): the verdict tests use them; the
thresholds are fitted on data/originality (issue 17, bench/originality_decision.py).

Each case has a ``source`` (what is already in a workspace) and texts to check against it:
- ``light``: the source with a few words changed (someone "touched up" a copy),
- ``heavy``: the same meaning in different words and structure (a paraphrase),
- ``related``: an independently written text on the same subject (NOT a copy: marketing copy
  for the same product necessarily shares facts),
- ``unrelated``: a text on another subject.
The exact copy is the source itself; the partial copy is one source sentence between two new
ones (``partial``).
"""

from __future__ import annotations

CASES: list[dict[str, str]] = [
    {
        "name": "hiking boots",
        "source": (
            "The Fernway Ridge boot is built for long days on rough ground. Its full-grain leather "
            "upper is treated to keep water out while letting your feet breathe. A grippy Vibram "
            "outsole bites into wet rock and loose gravel alike. Every pair comes with free "
            "returns for 100 days, so you can test them on a real trail."),
        "light": (
            "The Fernway Ridge boot is made for long days on rough terrain. Its full-grain leather "
            "upper is treated to keep the water out while letting your feet breathe. A grippy "
            "Vibram sole bites into wet rock and loose gravel alike. Every pair comes with free "
            "returns for 100 days, so you can try them on a real trail."),
        "heavy": (
            "Rough terrain and long hours are exactly what the Fernway Ridge was designed to handle. "
            "Waterproofed full-grain leather stops rain getting in, yet your feet stay cool and dry. "
            "Underneath, a Vibram sole holds firm on slick stone and shifting scree. Take a hundred "
            "days to try them outdoors; sending them back costs you nothing."),
        "related": (
            "Meet the Fernway Ridge, our lightest leather hiking boot yet. We stitched it by hand in "
            "Portugal and lined it with recycled wool for cold mornings. Lace it up for a weekend "
            "in the hills or a commute through city slush. Order this week and get a pair of merino "
            "hiking socks on us."),
        "unrelated": (
            "Sparkle Auto Spa washes your car by hand in twenty minutes while you wait in our "
            "lounge. We use biodegradable soap and recycled rainwater. Add an interior valet for "
            "a spotless dashboard and fresh mats. Loyalty cards give you every sixth wash free."),
        "partial": (
            "Autumn is the best season for the high trails. A grippy Vibram outsole bites into wet "
            "rock and loose gravel alike. Pack a warm layer and enjoy the quiet paths."),
    },
    {
        "name": "coffee subscription",
        "source": (
            "Brewline delivers freshly roasted beans to your door every two weeks. We roast each "
            "batch on Monday and ship it on Tuesday, so your coffee is never more than three days "
            "old. Choose from single-origin lots or our house espresso blend. Pause, skip or cancel "
            "your subscription at any time with one click."),
        "light": (
            "Brewline delivers freshly roasted coffee beans to your door every two weeks. We roast "
            "each batch on Monday and ship it on Tuesday, so your coffee is never more than three "
            "days old. Pick from single-origin lots or our house espresso blend. Pause, skip or "
            "cancel your plan at any time with a single click."),
        "heavy": (
            "Every fortnight, a bag of just-roasted beans from Brewline arrives at your home. Because "
            "roasting happens at the start of the week and dispatch the next day, what you brew is "
            "at most seventy-two hours out of the roaster. Go for a single farm's harvest or the "
            "espresso blend we drink ourselves. Taking a break or stopping entirely takes one click."),
        "related": (
            "Brewline started in a garage with a second-hand roaster and a lot of opinions about "
            "crema. Today we work directly with twelve farms in Colombia, Ethiopia and Guatemala. "
            "Our baristas write tasting notes for every lot we sell. Visit the tasting room on "
            "Saturdays to try the new harvest before anyone else."),
        "unrelated": (
            "Capture your wedding day with Elm & Light Photography. We shoot candid moments "
            "rather than stiff poses, from the first look to the last dance. Your online gallery "
            "arrives within three weeks. Packages start with six hours of coverage and a second "
            "shooter."),
        "partial": (
            "Good mornings start with good coffee. We roast each batch on Monday and ship it on "
            "Tuesday, so your coffee is never more than three days old. Treat yourself this week."),
    },
    {
        "name": "project management software",
        "source": (
            "Taskhive gives your team one place to plan, track and ship work. Drag tasks between "
            "columns, set due dates and see who is overloaded before deadlines slip. Built-in time "
            "tracking turns hours into invoices without a spreadsheet. Start free for up to ten "
            "users, no credit card required."),
        "light": (
            "Taskhive gives your whole team one place to plan, track and ship work. Drag tasks "
            "between columns, set deadlines and see who is overloaded before due dates slip. "
            "Built-in time tracking turns hours into invoices without any spreadsheet. Start free "
            "for up to ten users, no card required."),
        "heavy": (
            "Planning, following up and delivering projects all happen inside Taskhive, so nobody "
            "hunts through five apps. Move cards across your board, give each one a date, and spot "
            "the colleague with too much on their plate long before a launch is late. Logged time "
            "becomes a bill automatically, spreadsheets not needed. Teams of ten or fewer pay "
            "nothing and never enter payment details."),
        "related": (
            "Taskhive connects to Slack, GitHub and Google Drive in a couple of minutes. Our "
            "customers include design studios, agencies and small software companies across "
            "Europe. The mobile app works offline and syncs when you are back online. Read how a "
            "twelve-person agency cut its weekly status meeting to ten minutes."),
        "unrelated": (
            "FlowFix plumbers answer emergency calls day and night across the county. A leaking "
            "boiler or a burst pipe gets a visit within two hours. Our engineers carry common "
            "parts in the van, so most jobs are finished on the spot. You pay a fixed call-out "
            "fee with no hidden extras."),
        "partial": (
            "Deadlines do not have to be stressful. Built-in time tracking turns hours into invoices "
            "without a spreadsheet. Ask us for a walkthrough."),
    },
    {
        "name": "electric bike",
        "source": (
            "The Voltra City e-bike takes the sweat out of your commute. A quiet rear-hub motor "
            "gives you a boost up every hill, and the removable battery lasts up to 80 kilometres "
            "on a single charge. Integrated lights and mudguards mean you are ready for any "
            "weather. Book a free test ride at your nearest Voltra store."),
        "light": (
            "The Voltra City e-bike takes the sweat out of your daily commute. A quiet rear motor "
            "gives you a push up every hill, and the removable battery lasts up to 80 kilometres "
            "on one charge. Built-in lights and mudguards mean you are ready for any weather. Book "
            "a free test ride at your nearest Voltra shop."),
        "heavy": (
            "Arrive at work fresh instead of soaked: the Voltra City does the hard pedalling for "
            "you. Its near-silent motor in the back wheel flattens steep streets, and you can unclip "
            "the battery to charge it indoors, good for roughly eighty kilometres. Lights and "
            "splash guards come fitted, so rain and dark evenings are no excuse. Try one for free "
            "at a Voltra shop near you."),
        "related": (
            "Voltra bikes are designed in Utrecht and assembled by hand in our own workshop. We "
            "picked a steel frame because it is easy to repair anywhere in the world. The City model "
            "comes in three sizes and four colours, including a deep forest green. Our mechanics "
            "service every bike we sell for the first two years."),
        "unrelated": (
            "The Kings Row Chess Club meets every Wednesday evening in the library annexe. "
            "Beginners get a free lesson from a rated coach before the club games start. We play "
            "rapid and classical tournaments through the winter. Boards and clocks are provided."),
        "partial": (
            "Cities are changing fast. Integrated lights and mudguards mean you are ready for any "
            "weather. See the full range online."),
    },
    {
        "name": "yoga studio",
        "source": (
            "Stillpoint Yoga offers small classes for every level, from complete beginners to "
            "seasoned practitioners. Our teachers keep groups under twelve people so everyone gets "
            "personal attention. Mats, blocks and blankets are provided, and there are hot showers "
            "on site. Your first week of unlimited classes costs just fifteen pounds."),
        "light": (
            "Stillpoint Yoga offers small classes for every level, from total beginners to "
            "experienced practitioners. Our teachers keep groups under twelve people so everyone "
            "gets personal attention. Mats, blocks and blankets are all provided, and there are hot "
            "showers on site. Your first week of unlimited classes costs only fifteen pounds."),
        "heavy": (
            "Whether you have never unrolled a mat or have practised for years, there is a class for "
            "you at Stillpoint. With a dozen students at most, each teacher can actually watch and "
            "correct your poses. Bring nothing: we lend all the equipment, and you can shower "
            "before heading back to work. Seven days of as many sessions as you like will set you "
            "back fifteen pounds."),
        "related": (
            "Stillpoint Yoga opened its doors on Mill Street in 2015 in a converted textile "
            "warehouse. The main studio has oak floors, tall windows and underfloor heating. On "
            "Sunday evenings we run a candlelit restorative session with live cello music. Members "
            "get ten percent off at the cafe next door."),
        "unrelated": (
            "The museum's new exhibition brings together two hundred years of maps of the "
            "coastline. Visitors can trace how harbours silted up and whole villages moved "
            "inland. An interactive table lets children draw their own charts. Entry is free on "
            "the first Sunday of each month."),
        "partial": (
            "Breathe in, breathe out. Our teachers keep groups under twelve people so everyone gets "
            "personal attention. Come and see the studio."),
    },
    {
        "name": "accounting firm",
        "source": (
            "Ledgerly handles bookkeeping, payroll and tax returns for small businesses. You get a "
            "dedicated accountant who knows your numbers and answers emails within one working day. "
            "Our fixed monthly fee covers everything, so there are no surprise bills at year end. "
            "Switching from your current accountant takes us less than a week."),
        "light": (
            "Ledgerly handles bookkeeping, payroll and tax returns for small companies. You get a "
            "dedicated accountant who knows your figures and answers emails within one working day. "
            "Our fixed monthly fee covers everything, so there are no unexpected bills at year end. "
            "Switching from your current accountant takes us under a week."),
        "heavy": (
            "From the books to salaries to filing with the tax office, Ledgerly takes the financial "
            "admin off a small firm's hands. One named accountant learns your business and replies "
            "to messages by the next working day. A single flat monthly price includes the lot, "
            "meaning no nasty invoice when the year closes. Moving over from your old firm is done "
            "in a few days."),
        "related": (
            "Ledgerly was founded by two former auditors who were tired of jargon. We explain your "
            "accounts in plain English and send a one-page summary every quarter. Our clients range "
            "from hair salons to software consultancies. Read our guide to the expenses most "
            "sole traders forget to claim."),
        "unrelated": (
            "Greenacre Garden Centre has thousands of plants grown in our own nursery. Our staff "
            "will help you choose shrubs that suit clay or sandy soil. The cafe serves homemade "
            "scones under the glasshouse roof. Delivery is free on orders over fifty pounds."),
        "partial": (
            "Running a business is hard enough. Our fixed monthly fee covers everything, so there "
            "are no surprise bills at year end. Get in touch today."),
    },
    {
        "name": "pet food",
        "source": (
            "Whiskers Premium cat food is made with real salmon and no artificial colours or "
            "flavours. Each pouch holds exactly one meal, so nothing dries out in the fridge. Vets "
            "recommend our kitten range for strong bones and a glossy coat. Subscribe and save "
            "fifteen percent on every delivery."),
        "light": (
            "Whiskers Premium cat food is made with real salmon and no artificial colours or "
            "flavourings. Each pouch holds exactly one meal, so nothing dries out in your fridge. "
            "Vets recommend our kitten range for strong bones and a shiny coat. Subscribe and save "
            "fifteen percent on every order."),
        "heavy": (
            "Genuine salmon goes into every Whiskers Premium recipe, and we never add dyes or fake "
            "flavourings. Single-serving pouches mean no half-used tins going hard in the fridge. "
            "Veterinarians suggest the kitten formula for healthy skeletons and fur that shines. "
            "Sign up for regular deliveries and each one is fifteen percent cheaper."),
        "related": (
            "Cats are fussy eaters, and we take that personally. Our food scientists tested forty "
            "recipes with a panel of very honest house cats before settling on the Whiskers Premium "
            "range. The pouches are recyclable through our free return scheme. Join the Whiskers "
            "club for birthday treats for your cat."),
        "unrelated": (
            "Brightpath Recruitment finds engineers for manufacturing firms across the Midlands. "
            "We interview every candidate in person before we put them forward. Employers only "
            "pay when a new hire passes their probation. Send us your vacancy and we will "
            "shortlist within five days."),
        "partial": (
            "Your cat deserves the best. Vets recommend our kitten range for strong bones and a "
            "glossy coat. Try a sample pack today."),
    },
    {
        "name": "hotel",
        "source": (
            "The Grand Marlow Hotel sits right on the river, five minutes' walk from the old town. "
            "Every room has a king-size bed, a rain shower and views across the water. Breakfast is "
            "served on the terrace until eleven, even on weekdays. Book directly with us for a free "
            "late checkout and a welcome drink."),
        "light": (
            "The Grand Marlow Hotel sits right on the river, a five-minute walk from the old town. "
            "Every room has a king-size bed, a rain shower and views across the river. Breakfast is "
            "served on the terrace until eleven, even on weekdays. Book directly with us for a "
            "complimentary late checkout and a welcome drink."),
        "heavy": (
            "On the riverbank and a short stroll from the historic centre, the Grand Marlow is "
            "perfectly placed. Guests sleep in generous king beds, shower under a rainfall head and "
            "wake up to the water outside the window. Morning meals are laid out on the terrace as "
            "late as eleven all week. Reserve through our own website and you can leave late and "
            "enjoy a drink on arrival, on the house."),
        "related": (
            "The Grand Marlow was built in 1887 as a merchant's townhouse and restored in 2019. Our "
            "restaurant serves seasonal dishes from farms in the valley. The spa has a heated pool, "
            "a sauna and two treatment rooms. Ask the concierge about boat trips to the castle."),
        "unrelated": (
            "The Regal picture house screens classic films every Friday night on our restored "
            "35mm projector. Seats are velvet, the popcorn is made fresh and the bar serves local"
            " ales. Members get two tickets for the price of one. See the full season programme "
            "in the foyer."),
        "partial": (
            "Looking for a weekend away? Every room has a king-size bed, a rain shower and views "
            "across the water. We look forward to welcoming you."),
    },
    {
        "name": "language app",
        "source": (
            "Parlo teaches you a new language in ten minutes a day. Lessons adapt to what you "
            "already know and bring back the words you keep forgetting. A pronunciation coach "
            "listens as you speak and shows exactly which sounds to fix. Try every course free for "
            "the first month."),
        "light": (
            "Parlo teaches you a new language in just ten minutes a day. Lessons adapt to what you "
            "already know and bring back the words you tend to forget. A pronunciation coach "
            "listens while you speak and shows exactly which sounds to fix. Try every course free "
            "for your first month."),
        "heavy": (
            "Give Parlo a few minutes each day and you will be speaking another language sooner "
            "than you think. The app works out your level and keeps quizzing you on vocabulary "
            "that has not stuck yet. Say phrases out loud and it points out the sounds you are "
            "getting wrong. All courses cost nothing for thirty days."),
        "related": (
            "Parlo was built by a team of linguists and former teachers in Lisbon. We now offer "
            "twenty-two languages, from Portuguese to Korean. Our course writers record every "
            "dialogue with native speakers in real cafes and markets. Join a free live "
            "conversation class every Thursday evening."),
        "unrelated": (
            "Splash Academy teaches children to swim in small groups of four. Our instructors are"
            " fully qualified lifeguards. Lessons run after school and on Saturday mornings in a "
            "warm teaching pool. Parents can watch from the viewing gallery."),
        "partial": (
            "Travel is better when you can talk to people. A pronunciation coach listens as you "
            "speak and shows exactly which sounds to fix. Download the app now."),
    },
    {
        "name": "home insurance",
        "source": (
            "Keystone Home Cover protects your house and everything inside it. Our standard policy "
            "includes accidental damage and covers valuables you take out with you. When you claim, "
            "a named adviser calls you back within the hour. Get a quote online in under five "
            "minutes."),
        "light": (
            "Keystone Home Cover protects your home and everything inside it. Our standard policy "
            "includes accidental damage and covers the valuables you take out with you. When you "
            "make a claim, a named adviser calls you back within an hour. Get a quote online in "
            "less than five minutes."),
        "heavy": (
            "Both the building and your belongings are safe with Keystone. Spills, breakages and "
            "items lost while you are out of the house are part of the basic plan. If something "
            "goes wrong, a real person who knows your case phones you back in under sixty minutes. "
            "Pricing your cover on our website is quicker than making a cup of tea."),
        "related": (
            "Keystone has insured homes in the north of England for over forty years. We were "
            "rated the most trusted home insurer by readers of Home Money magazine. Our app lets you "
            "photograph your belongings for a quick inventory. Members can call our free legal "
            "helpline about boundary or neighbour disputes."),
        "unrelated": (
            "SunRoof Energy installs solar panels on homes and farm buildings. We survey your "
            "roof with a drone and design a system that fits your electricity use. Most customers"
            " see their bills fall within the first month. Ask about battery storage for the "
            "evenings."),
        "partial": (
            "Life is unpredictable. When you claim, a named adviser calls you back within the hour. "
            "That is our promise."),
    },
    {
        "name": "bakery",
        "source": (
            "Fresh sourdough comes out of our ovens every morning at seven. We bake with a starter "
            "that is older than the bakery and flour milled twenty miles away. Try the seeded rye "
            "with salted butter or take a cinnamon knot home for later. We close when the bread "
            "runs out, so come early."),
        "light": (
            "Fresh sourdough comes out of our ovens each morning at seven. We bake with a starter "
            "that is older than the bakery itself and flour milled twenty miles away. Try the "
            "seeded rye with salted butter or take a cinnamon knot home for later. We close when "
            "the bread sells out, so come early."),
        "heavy": (
            "By seven each day, our first loaves of sourdough are cooling on the racks. The culture "
            "that raises them has outlived the shop's opening date, and the grain is ground on a "
            "farm just down the road. Pair a slice of the rye with seeds and good butter, or save a "
            "swirled cinnamon bun for the afternoon. When the shelves are empty we lock up, so "
            "don't leave it late."),
        "related": (
            "Our bakery started as a market stall with one oven and a queue around the block. We "
            "still shape every loaf by hand and bake in small batches throughout the day. On "
            "Fridays we make a special focaccia with rosemary from our garden. Ask about our "
            "weekend bread-making workshops."),
        "unrelated": (
            "Pawfect Grooming gives dogs of every size a bath, a trim and a nail clip. We use "
            "gentle shampoos for sensitive skin. Nervous dogs can book a quiet early slot. Pick-"
            "up and drop-off is available in town."),
        "partial": (
            "Weekends call for something special. Try the seeded rye with salted butter or take a "
            "cinnamon knot home for later. See you soon."),
    },
    {
        "name": "dental clinic",
        "source": (
            "Harbour Dental is now open on Saturday mornings for busy families. Our hygienists offer "
            "a gentle clean and a full check-up in a single visit. Nervous patients can ask for extra "
            "time and a quiet treatment room. Children under twelve are seen free when they come "
            "with a paying adult."),
        "light": (
            "Harbour Dental is now open on Saturday mornings for busy families. Our hygienists "
            "provide a gentle clean and a full check-up in one visit. Anxious patients can ask for "
            "extra time and a quiet treatment room. Children under twelve are seen for free when "
            "they come with a paying adult."),
        "heavy": (
            "Weekday appointments hard to fit in? Harbour Dental now sees patients on Saturday "
            "mornings too. You can have your teeth cleaned and examined in the same appointment, "
            "with a light touch. If the dentist's chair makes you uneasy, we will slow down and find "
            "you a calm room. Kids up to eleven come along at no charge with a parent who is being "
            "treated."),
        "related": (
            "Harbour Dental has served the seafront community for twenty-five years. Our new "
            "surgery has digital X-rays that use far less radiation than older machines. We offer "
            "Invisalign, whitening and same-day crowns. Read what our patients say about us on "
            "the reviews page."),
        "unrelated": (
            "Alpine Edge rents skis, snowboards and boots by the day or the week. Our technicians"
            " fit your boots properly so your feet stay warm. Book online and your kit is waiting"
            " when you arrive. Helmets are free with every rental."),
        "partial": (
            "Healthy smiles start young. Our hygienists offer a gentle clean and a full check-up in "
            "a single visit. Call the front desk to book."),
    },
]

CATEGORIES = ("exact", "partial", "light", "heavy", "related", "unrelated")
EXPECTED = {"exact": "copy", "partial": "copy", "light": "copy", "heavy": "paraphrase",
            "related": "original", "unrelated": "original"}


def query(case: dict[str, str], category: str) -> str:
    return case["source"] if category == "exact" else case[category]


def corpus() -> tuple[list[dict], list[dict]]:
    """data/originality (data/originality/README.md): the topics (brief, source, independent
    texts, copies, revisions) and the two look-alike catalogues."""
    import json
    from pathlib import Path

    topics: list[dict] = []
    catalogues: list[dict] = []
    for path in sorted((Path(__file__).resolve().parents[2] / "data" / "originality").glob("corpus_*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                (catalogues if "catalogue" in row else topics).append(row)
    return topics, catalogues


def topic(name: str) -> dict:
    return next(t for t in corpus()[0] if t["topic"] == name)
