"""Real marketing texts the SEO tests analyse (and a stuffed one)."""

BOOTS = """Fernway waterproof hiking boots keep your feet dry on every trail, from muddy forest paths to wet granite. Each hiking boot is cut from full-grain leather and lined with a breathable membrane, so your feet stay cool on the climb and warm at the summit.

The Vibram outsole grips loose scree and slick rock, and the cushioned midsole takes the sting out of long descents. Whether you are planning a weekend in the Lake District or a week on the West Highland Way, these boots are made to go the distance.

Every pair comes with free returns for 60 days and a two-year guarantee. Lace up and find your next trail."""

BOOTS_BRIEF = ("Product: Fernway waterproof hiking boots. Full-grain leather, Vibram sole, breathable "
               "membrane. Free returns for 60 days. Audience: weekend hikers in the UK.")

PLANTS_MD = """# Houseplant Care for Beginners: A Simple Guide

Houseplant care for beginners comes down to three things: light, water and patience. Get those right and most plants will forgive the odd mistake.

## How much light do houseplants need?

Most houseplants like bright, indirect light. A spot a metre or two from a south-facing window suits a fiddle-leaf fig, while a snake plant or a ZZ plant will cope with a dim hallway.

## Watering without drowning

More houseplants die from too much water than too little. Push a finger into the soil: if the top two centimetres are dry, water until it runs from the drainage hole, then empty the saucer.

## Repotting

Repot in spring when roots circle the pot or poke out of the bottom. Choose a pot only one size bigger, with fresh peat-free compost."""

SAAS = """Plan sprints, track tasks and ship on time with Tandem, the project management software built for remote teams. Tandem brings your roadmap, your backlog and your team chat into one calm workspace.

Assign work in seconds, see who is overloaded before deadlines slip, and keep stakeholders in the loop with automatic weekly summaries. Integrations with GitHub, Figma and Slack mean nobody has to copy updates between tools.

Start a free 14-day trial today: no credit card needed, and you can invite your whole team."""

STUFFED = """Cheap flights to Paris are what we do. Looking for cheap flights to Paris? Our cheap flights to Paris beat every other site for cheap flights to Paris. Book cheap flights to Paris today and save on cheap flights to Paris, because cheap flights to Paris should be easy. Compare cheap flights to Paris from London, Manchester and Edinburgh and find cheap flights to Paris in seconds. Weekend breaks, city breaks and last-minute deals all start with cheap flights to Paris."""

NATURAL_FLIGHTS = """Find cheap flights to Paris from London, Manchester and Edinburgh in seconds. We compare hundreds of airlines and travel sites, so you see every fare side by side and book the one that suits you.

Travelling light? Filter for hand-luggage-only fares. Want to stay longer? Set a flexible return date and we will show you the cheapest days to come home. Prices update every few minutes, and a fare alert tells you the moment your route drops in price.

From a long weekend in Montmartre to a week of museums and markets, your trip starts here."""

META_DESCRIPTION = ("Houseplant care for beginners made simple: light, watering and repotting explained, "
                    "plus five easy plants that thrive in any flat.")
