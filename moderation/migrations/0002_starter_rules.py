"""The starter set of prompt rules, for every category. Administrators extend it in the admin.

How to read a rule: words and phrases are separated by "|" and matched on the normalised
prompt (case, accents, leetspeak, spaced or stretched letters, plurals); "word*" matches the
beginning of a word; /…/ is a regular expression. Regular expressions see the prompt lower-cased,
without accents or punctuation, words separated by single spaces ("15-year-old" reads
"15 year old", "girl's" reads "girls"). A context must ALSO appear somewhere in the prompt;
an exception that contains the match makes it innocent ("naked eye").

Decisions:
- Plain swimwear passes (a bikini at the beach, a swimsuit at the pool); lingerie, underwear
  and swimwear with suggestive words go to review; nudity and sexual acts are blocked.
- Words about children block only together with sexual or revealing words; sexualised words
  about minors ("loli", "jailbait") block alone. Swimwear is not a sexual word: a family at the
  beach passes.
- Weapons, battles, combat sports, hunting and blood in a sporting sense pass; gore, mutilation
  and killing with blood are blocked; corpses and torture go to review.
- "nazi" alone goes to review (history, films, documentaries); salutes, swastikas, Hitler,
  Klan symbols, white-power slogans and slurs are blocked. The Star of David and other
  religious symbols are not rules at all.
- A prompt naming a well-known real person is blocked: the platform makes pictures of the
  signed-in user, and a named public figure asks for a deepfake. Full names, and surnames
  only where they are unambiguous ("Obama", not "Bush" or "Musk", which is also a scent).
  Painters, photographers and film directors are not on the list: "in the style of" passes.
- Slurs are kept ROT13-encoded in this file so that the source does not spell them out; the
  database holds them in clear for the administrators.
"""

import codecs
import uuid

from django.core.cache import cache
from django.db import migrations

STARTER_NOTE = "Starter set"


def _rot13(text):
    return codecs.decode(text, "rot13")


# Words that make a prompt sexual or revealing (the context of the minors rules).
# Not here, because a child does them innocently: swimwear, a bath, crawling "on all fours",
# "thongs" (flip-flops), a "babydoll" dress, a garter snake, "kinky" hair, being undressed for a
# bath. Nudity itself is blocked by the sexual rules anyway.
SEXUAL_OR_REVEALING = (
    "nude|nudes|nudity|naked|topless|bottomless|nsfw|porn*|sexy|sexual*|sexualised|"
    "sexualized|erotic*|seductive*|seduce*|seducing|sensual*|provocative*|sultry|lewd|horny|"
    "aroused|arousing|lingerie|underwear|undies|panties|knickers|g string|gstring|bralette|"
    "push up bra|lace bra|in her bra|in a bra|only a bra|her bra|bra and panties|in a thong|"
    "wearing a thong|thong underwear|negligee|garter belt*|garters|boudoir|cleavage|busty|boobs|breasts|"
    "nipple*|crotch|genital*|stripping|striptease|stripper*|tiny bikini|micro bikini|"
    "microbikini|string bikini|thong bikini|skimpy*|revealing|see through dress|"
    "see through top|see through shirt|see through clothes|see through clothing|"
    "see through lingerie|sheer lingerie|wet t shirt|spread legs|legs spread|suggestive*|"
    "fetish*|bdsm|bondage|onlyfans|playboy|molest*|rape|raped|naughty pose|bedroom eyes|"
    "pin up pose|hot body|sexy body|birthday suit"
)

MINOR_WORDS = (
    "child|children|childs|kid|kids|kiddie|kiddo|kiddy|toddler*|baby|babies|infant*|preteen*|"
    "pre teen*|tween|tweens|teen|teens|teenage*|teenager*|adolescent*|juvenile*|minor|minors|"
    "underage*|under age|schoolgirl*|schoolboy*|school girl*|school boy*|little girl*|"
    "little boy*|young girl*|young boy*|girl child|boy child|stepdaughter|elementary school*|"
    "primary school*|middle school*|junior high|high school*|highschool*|school uniform*|"
    "jailbait|lolita|loli"
)
MINOR_EXCEPTIONS = (
    "baby doll|baby oil|baby blue|baby pink|baby face|baby faced|baby bump|baby shower|"
    "baby hair|baby hairs|baby powder|baby lotion|baby pink lingerie|baby blue lingerie|"
    "kid gloves|kidskin|sugar baby|"
    r"/\b(?:gothic|goth|sweet|classic|punk|wa|country|hime) lolita\b|\blolita (?:fashion|dress|coord|style)\b/"
)
MINOR_AGE_PATTERN = (
    r"\b(?:[1-9]|1[0-7]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen) ?(?:years? ?old|yrs? ?old|y ?o|yo)\b"
    r"|\baged? (?:of )?(?:[1-9]|1[0-7])\b"
    r"|\b(?:[1-9]|1[0-7]) years? of age\b"
    r"|\bunder ?(?:18|eighteen)\b"
    r"|\b(?:girl|boy|kid|child|teen|daughter|son)s? (?:[1-9]|1[0-7])\b"
    r"|\b(?:[1-9]|1[0-7]) (?:year|yr) old (?:girl|boy)\b"
)

SUGGESTIVE = "sexy|seductive*|seductively|sensual*|sultry|provocative*|alluring|steamy|lustful"
REVEALING_SETTINGS = (
    "bikini|bikinis|swimsuit*|swimwear|bathing suit*|bed|bedroom|bedsheets|shower|bathtub|"
    "bath|towel|wet|oiled|body oil|bent over|arched back|on all fours|lying in bed|underwear|"
    "lingerie|stockings|fishnet*|short shorts|mini skirt|miniskirt|latex|corset"
)


def rule(category, text, *, action="block", kind="word", context="", exceptions="", note=""):
    return {
        "category": category,
        "text": text,
        "action": action,
        "kind": kind,
        "context": context,
        "exceptions": exceptions,
        "note": note,
    }


RULES = [
    # --- Minors ---------------------------------------------------------------------------
    rule(
        "minors",
        "loli|lolis|lolicon|shota|shotacon|jailbait|jail bait|barely legal|pedo|pedos|pedophil*|"
        "paedo|paedos|paedophil*|pedobear|child porn*|kiddie porn*|kiddy porn*|cp porn|"
        "child sexual abuse|child sex|csam|child bride|preteen model|underage model|"
        "prepubescent*|pre pubescent*|"
        "underage sex|underage nude*|underage naked",
        note="Sexualised words about minors: blocked on their own.",
    ),
    rule(
        "minors",
        "lolita",
        exceptions=(
            r"/\b(?:gothic|goth|sweet|classic|punk|wa|country|hime|ouji) lolita\b"
            r"|\blolita (?:fashion|dress|dresses|coord|coords|style|outfit|clothing|skirt)\b/"
        ),
        note='"Lolita" alone; the Japanese lolita fashion passes.',
    ),
    rule(
        "minors",
        MINOR_WORDS,
        kind="phrase",
        context=SEXUAL_OR_REVEALING,
        exceptions=MINOR_EXCEPTIONS,
        note="Children and teenagers together with sexual or revealing words. Alone: innocent.",
    ),
    rule(
        "minors",
        MINOR_AGE_PATTERN,
        kind="pattern",
        context=SEXUAL_OR_REVEALING,
        note="An age under 18 together with sexual or revealing words.",
    ),
    # --- Sexual content -------------------------------------------------------------------
    rule(
        "sexual",
        "nude|nudes|nudity|nudist*|nudism|naked|nakedness|nakey|nekkid|unclothed|undressed|"
        "undress|undresses|undressing|disrobed|disrobing|nackt|desnuda|desnudo|desnudas|desnudos|toute nue",
        exceptions=(
            r"/\bnude[ -]?(?:colou?r|colou?red|colou?rs|tones?|toned|shades?|lip\w*|gloss|"
            r"make ?up|nails?|polish|heels?|pumps|shoes?|sandals?|flats|boots|palette|"
            r"eyeshadow|eye shadow|beige|pink|blush|foundation|manicure|pedicure|stockings|"
            r"tights|pantyhose|bra|slip dress|mesh|fabric|leather|suede|satin|silk|linen|trench|"
            r"blazer|dress|gown|skirt|top|cardigan|sweater|knit)\b"
            r"|\bnaked (?:eye|truth|flame|cake|wire|juice|ambition|lunch|gun|mole rat|"
            r"mole rats|chef)\b"
            r"|\b(?:no|not|non|without|zero|never|avoid|free of|nothing) (?:any )?"
            r"(?:nude|nudes|nudity|naked)\b/"
        ),
        note="Nudity. Nude as a colour, the naked eye and negations pass.",
    ),
    rule(
        "sexual",
        "topless",
        exceptions=(
            r"/\btopless (?:car|cars|convertible|convertibles|bus|buses|jeep|roadster|"
            r"man|men|guy|guys|male|males|bodybuilder|surfer|surfers|boxer|boxers|"
            r"swimmer|swimmers|runner|runners|lifeguard|fisherman|builder|dad|father|husband|"
            r"boyfriend|boy|boys)\b/"
        ),
        note="Topless, except a car or a man.",
    ),
    rule(
        "sexual",
        "nsfw|porn*|pron|pr0n|xxx|hentai|ecchi|ahegao|futanari|yiff|rule34|rule 34|r34|erotica|"
        "erotic|eroticism|erotically|lewd|lewds|smut|smutty|x rated|xrated|adult film|"
        "adult video|adult content|adult only|adults only|sex tape|sextape|camgirl*|cam girl*|"
        "uncensored|explicit content|explicit scene|explicit image|explicit photo|explicit sex|"
        "explicit pose",
        exceptions=r"/\b(?:no|not|non|without|avoid|zero) (?:nsfw|porn\w*|erotic\w*|explicit)\b/",
        note="Pornography and its vocabulary.",
    ),
    rule(
        "sexual",
        "sex|sexual|sexually|sexualised|sexualized|having sex|sex act*|sex scene*|sex position*|"
        "sexual intercourse|intercourse|copulat*|coitus|fornicat*|orgy|orgies|gangbang*|"
        "gang bang*|threesome|foursome|bukkake|creampie*|cumshot*|cum shot*|cum|cumming|cumslut|"
        "jizz|semen|ejaculat*|orgasm*|masturbat*|jerking off|jerk off|jacking off|"
        "blowjob*|blow job*|handjob*|hand job*|footjob*|fellatio|cunnilingus|deepthroat*|"
        "rimjob*|anal|anilingus|69 position|sixty nine position|doggy style|doggystyle|"
        "missionary position|cowgirl position|reverse cowgirl|sex toy*|dildo*|vibrator*|"
        "fleshlight|buttplug*|butt plug*|strapon|strap on dildo|cock ring|fucking|fuck|fucked|"
        "fucks|sexting|sexy time|making love|lovemaking|love making|humping|"
        "grinding on|twerking naked|bdsm|bondage|gimp suit|sadomasochis*|"
        "incest|bestiality|zoophilia|necrophilia|voyeur*|upskirt*|up skirt|downblouse|"
        "down blouse|nip slip|nipslip|wardrobe malfunction|cameltoe|camel toe|"
        "clothing optional|skinny dipping|skinny dip|in the buff|birthday suit",
        exceptions=(
            r"/\bsex (?:education|ed|pistols|and the city|of the|of a|of my|of your|"
            r"determination|chromosomes?|differences?|ratio)\b"
            r"|\b(?:(?:summa|magna) )?cum laude\b/"
        ),
        note="Sexual acts, sex toys, fetishes and voyeurism.",
    ),
    rule(
        "sexual",
        "genital*|penis|penises|penile|vagina|vaginas|vaginal|vulva|vulvas|labia|clitoris|clit|"
        "scrotum|testicle*|pubic|pubes|erection|erections|erect penis|boner|boners|dick pic*|"
        "dickpic*|big dick|hard dick|huge dick|big cock|hard cock|huge cock|sucking cock|"
        "sucking dick|nipple*|areola*|boobs|boobies|booba|titties|titty|tiddies|tits|cunt|cunts|"
        "pussy|pussies|bare breasts|bare breasted|barebreasted|exposed breasts|breasts exposed|"
        "showing breasts|breasts out|boobs out|tits out|full frontal|frontal nudity|"
        "bare butt|bare ass|bare buttocks|bare bottom|naked butt|naked ass|exposed butt|"
        "my dick|his dick|your dick|my cock|his cock|your cock|exposing herself|"
        "exposing himself|exposing themselves|flashing her breasts|flashing his|"
        "showing his junk|showing her junk|junk out|his pants down|her pants down|"
        "pulling down her pants|pulling down his pants|dropping his pants|dropping her pants",
        exceptions=(
            r"/\b(?:blue|great|coal|marsh|willow|crested|long tailed|bearded) tits?\b"
            r"|\bpuss(?:y|ies) ?(?:cat|cats|willow|willows|riot|foot\w*)\b"
            r"|\b(?:blue|red|brown) footed boob(?:y|ies)\b|\bmasked boob(?:y|ies)\b"
            r"|\b(?:bottle|baby bottle) nipples?\b|\bnipple shield\b"
            r"|\berection of\b|\bbaby(?:s)? bare bottom\b/"
        ),
        note="Genitals and explicit body words. Birds, cats and buildings pass.",
    ),
    rule(
        "sexual",
        r"\b(?:bare|exposed|showing|visible|naked|flashing|uncovered|revealing) (?:her |his |my |"
        r"their |your )?(?:breasts?|boobs|tits|nipples?|bosom|genitals|crotch|privates|"
        r"private parts|buttocks|butt|ass)\b"
        r"|\b(?:big|huge|giant|massive|large|enormous|bouncing) (?:breasts|boobs|tits|nipples)\b"
        r"|\b(?:no|without|without any) (?:clothes|clothing|panties|underwear)\b"
        r"|\b(?:removes?|removing|removed|took off|taking off|take off|takes off|pulling off|"
        r"pulls off|strips off|stripping off) (?:her|my|their) (?:clothes|clothing|top|shirt|"
        r"blouse|bra|panties|underwear|pants|bikini top|dress)\b"
        r"|\b(?:removes?|removing|removed|took off|taking off|take off|takes off|strips off|"
        r"stripping off) his (?:clothes|clothing|underwear|pants|boxers)\b"
        r"|\b(?:clothes|clothing|bra|panties|underwear|bikini top) (?:off|removed)\b"
        r"|\bwearing (?:nothing|only a smile)\b(?! but (?:a |her |his )?(?:diaper|nappy|smile))"
        r"|\b(?:with|has|had|having) nothing on\b"
        r"|\b(?:no top on|with no top|without (?:a|her) (?:top|shirt|bra))\b"
        r"|\bnot wearing (?:anything|any clothes|clothes|a bra|panties|underwear)\b"
        r"|\b(?:spread|spreading|opened|open) (?:her |his |my |their )?legs\b"
        r"|\blegs (?:wide )?(?:spread|open)\b|\bstrip(?:ping|ped)? (?:naked|nude)\b",
        kind="pattern",
        note="Undressed or exposed, in other words.",
    ),
    rule(
        "sexual",
        "rape|raped|raping|rapist*|molest*|sexual assault|sexually assaulted|sexual abuse|"
        "sexually abused|groping|groped|forced sex|non consensual|nonconsensual|noncon",
        note="Sexual violence.",
    ),
    rule(
        "sexual",
        r"\b(?:hidden|spy|secret) ?cam(?:era)?\b",
        kind="pattern",
        context="shower|showering|toilet|bathroom|changing room|locker room|dressing room|"
        "bedroom|undressing|changing clothes|naked|nude",
        note="Hidden cameras where people undress.",
    ),
    rule(
        "sexual",
        "lingerie|underwear|undies|panties|knickers|thong|thongs|g string|gstring|negligee|"
        "babydoll|bralette|garter*|boudoir|cleavage|busty|sideboob|side boob|underboob|"
        "under boob|braless|no bra|see through dress|see through top|see through shirt|"
        "see through clothes|see through clothing|see through outfit|see through blouse|"
        "wet t shirt|wet tshirt|wet shirt|micro bikini|microbikini|string bikini|thong bikini|"
        "tiny bikini|skimpy*|onlyfans|playboy bunny|playboy model|playboy magazine|"
        "playboy playmate|centerfold|centrefold|stripper*|striptease|strip tease|strip club|"
        "lap dance|lapdance|fetish*|dominatrix|shibari|seductively|lustful|"
        "sheer lingerie|transparent lingerie|sheer top|sheer blouse|transparent top|"
        "transparent dress|transparent shirt|escort girl|prostitute*|brothel*|"
        "wearing only a towel|in only a towel|only a towel",
        action="review",
        exceptions=(
            r"/\bthongs? (?:sandals?|flip ?flops?)\b|\bgarter snakes?\b"
            r"|\b(?:paint|wire|varnish) strippers?\b|\b(?:thermal|long) underwear\b/"
        ),
        note="Borderline clothing and words: the outputs are held for review, not blocked.",
    ),
    rule(
        "sexual",
        SUGGESTIVE,
        action="review",
        context=REVEALING_SETTINGS,
        note="Suggestive words with swimwear, a bed, a shower…: review. Plain swimwear passes.",
    ),
    # --- Violence and gore ----------------------------------------------------------------
    rule(
        "violence",
        "gore|gory|gorey|goreporn|guro|dismember*|decapitat*|behead*|disembowel*|eviscerat*|"
        "mutilat*|flayed|flaying|skinned alive|burned alive|burnt alive|burning alive|"
        "boiled alive|buried alive|entrails|brain matter|brains splattered|splattered brains|"
        "brains everywhere|brains spilling|"
        "brains blown out|blown to pieces|blown to bits|torn limb from limb|severed head*|"
        "severed limb*|severed arm*|severed leg*|severed hand*|severed finger*|severed foot|"
        "severed feet|severed body part*|chopped off head|head chopped off|heads chopped off|"
        "cut off head|head cut off|chopped up body|chopped up bodies|mangled body|"
        "mangled bodies|mangled corpse*|exposed organs|exposed intestines|exposed guts|"
        "intestines spilling|guts spilling|spilling guts|spilled guts|spilled intestines|"
        "guts hanging out|intestines hanging out|eyes gouged|gouged out eye*|snuff film*|"
        "snuff video*|bloodbath|blood bath|pool of blood|pools of blood|blood everywhere|"
        "blood splatter*|splattered blood|blood spatter|blood spray|soaked in blood|"
        "blood soaked|drenched in blood|blood drenched|bloody corpse*|bloodied corpse*|"
        "bloody body|bloody bodies|bloody massacre|gaping wound*|bullet riddled body|"
        "body riddled with bullets|headless body|headless corpse|slit throat|throat slit|"
        "slit his throat|slit her throat|slitting his throat|slitting her throat|"
        "cut his throat|cut her throat|dead child|dead children|dead baby|dead babies|dead kids|"
        "hostage execution|executing a hostage|executing hostages|executing prisoners",
        exceptions=r"/\bal gore\b|\bgore ?tex\b|\bgoretex\b|\bgore (?:vidal|verbinski)\b/",
        note="Gore and mutilation. Swords, battles, combat sports and hunting are not rules.",
    ),
    rule(
        "violence",
        "stab|stabs|stabbed|stabbing|stabbings|slaughter*|butchered|butchering|murder*|"
        "kill|kills|killed|killing|killings|execute|executed|executing|execution*|tortur*|"
        "beat to death|beaten to death|bludgeon*|maim*|strangl*|hacked to death|"
        "hacking to death|massacr*|torn apart|ripped apart|blown apart|ripped in half|"
        "cut in half|sliced open|cut open|impaled|impaling|crushed to death|shot dead",
        context="blood|bloody|bloodied|bleeding|gore|gory|corpse*|dead body|dead bodies|"
        "body parts|wound*|guts|entrails|organs|brains|severed|flesh|limbs|intestines|gunshot*",
        exceptions=(
            r"/\b(?:kill\w*|slay\w*|stab\w*|slaughter\w*|butcher\w*|impal\w*|execut\w*) "
            r"(?:a |an |the |that |this |giant |huge |evil )*(?:dragons?|monsters?|zombies?|orcs?|"
            r"demons?|aliens?|vampires?|werewolf|werewolves|trolls?|goblins?|undead|robots?|"
            r"deer|boar|elk|moose|pheasants?|ducks?|fish|rabbits?|hogs?|pigs?|chickens?)\b"
            r"|\bmurder (?:mystery|mysteries|of crows|she wrote)\b|\bkilling it\b/"
        ),
        note="Killing, stabbing, torture… together with blood, wounds or corpses.",
    ),
    rule(
        "violence",
        r"\b(?:mass|school|church|mosque|synagogue|office|concert) shootings?\b"
        r"|\b(?:mass|school) shooters?\b"
        r"|\bshooting (?:at )?(?:people|civilians|children|kids|students|a crowd|the crowd|"
        r"someone|somebody|a person|a man|a woman|protesters|classmates|worshippers)\b"
        r"|\bshot (?:in the|through the) (?:head|face|chest|heart|back|neck)\b"
        r"|\b(?:gunshot|bullet|stab) wounds?\b|\bbullet holes? in (?:his|her|their|the) "
        r"(?:head|face|body|chest)\b"
        r"|\bsuicide (?:bomb\w*|vest)\b|\bcar bomb(?:ing)? (?:victims|attack)\b"
        r"|\bbombing victims\b|\bterror(?:ist)? attack victims\b"
        r"|\b(?:killing|kill|killed|torturing|tortured|skinning|drowning|burning) (?:a |the |"
        r"my |his |her )?(?:puppy|puppies|kitten|kittens|dog|dogs|cat|cats)\b"
        r"|\banimal (?:cruelty|abuse|torture)\b",
        kind="pattern",
        note="Shootings of people, wounds, bombings, cruelty to animals.",
    ),
    rule(
        "violence",
        r"\b(?:tear|tears|tearing|tore|torn|rip|rips|ripping|ripped|gouge|gouges|gouging|"
        r"gouged) (?:out )?(?:\w+ ){0,3}(?:intestines|guts|entrails|organs|heart|eyes?|"
        r"eyeballs?|throat|spine)\b"
        r"|\b(?:eat|eats|eating|ate|devour|devours|devouring|devoured|feast\w*) (?:on )?"
        r"(?:\w+ ){0,3}(?:intestines|guts|entrails|organs|brains|flesh)\b"
        r"|\b(?:slit|slits|slitting|cut|cuts|cutting|slash|slashes|slashing|slashed) "
        r"(?:\w+ ){1,3}throats?\b"
        r"|\bexecut\w* (?:a |an |the )?(?:prisoner|hostage|captive|civilian|man|woman|child)s?\b",
        kind="pattern",
        note="Tearing out organs, cutting throats, executions, in other words.",
    ),
    rule(
        "violence",
        "corpse|corpses|cadaver*|dead body|dead bodies|pile of bodies|torture|tortured|"
        "torturing|torture chamber|public execution|execution scene|firing squad|"
        "hanging body|hanged man|genocide|massacre|crime scene photo*|murder scene*|open wound*|"
        "covered in blood|dripping blood|blood dripping|dripping with blood|bloody face|"
        "bloody wound*|terrorist attack|car bomb|shooting spree|strangling|strangled|"
        "choking someone|choking her|choking him|waterboarding|gruesome|cannibal*|"
        "eating human flesh|human flesh|war crime*|bleeding out|electric chair",
        action="review",
        exceptions=(
            r"/\bcorpse (?:bride|paint|flower|reviver|lily)\b"
            r"|\btortured (?:soul|souls|artist|artists|poet|poets|poets department|genius|look|"
            r"expression)\b|\bhanged man (?:tarot|card)\b|\bthe hanged man\b/"
        ),
        note="Death and cruelty without gore: review.",
    ),
    # --- Self-harm ------------------------------------------------------------------------
    rule(
        "self_harm",
        "suicide|suicides|suicidal|kill myself|killing myself|kill yourself|kys|kill himself|"
        "kill herself|kill themselves|killed himself|killed herself|killed themselves|"
        "killing himself|killing herself|killing themselves|end my life|ending my life|"
        "end her life|end his life|take my own life|taking my own life|took her own life|"
        "took his own life|self harm|selfharm|self harming|self injury|self injuring|"
        "self inflicted|self mutilat*|cutting myself|cut myself|cutting herself|cut herself|"
        "cutting himself|cut himself|thinspo|thinspiration|bonespo|meanspo|pro ana|proana|"
        "pro mia|overdos*|hang myself|hanging myself|hanged myself",
        exceptions=(
            r"/\bsuicide (?:squad|doors?|prevention|awareness|hotline|helpline|lifeline|"
            r"crisis|watch|king|mission|missions|run|runs|sprints?|drills?|bomb\w*|vest|blonde|"
            r"silence)\b"
            r"|\b(?:suicide|overdose) (?:prevention|awareness)\b|\b(?:prevent|prevention of) "
            r"(?:suicide|self harm|overdoses?)\b|\bnaloxone\b/"
        ),
        note="Suicide and self-harm. Suicide Squad, suicide doors and prevention posters pass.",
    ),
    rule(
        "self_harm",
        r"\b(?:slit|slitting|slits|slash|slashed|slashing|cut|cuts|cutting|razor|razors|"
        r"blade|blades|bleeding|scarred|scars on) (?:my |her |his |their |your |own )?"
        r"(?:own )?wrists?\b"
        r"|\bwrists? (?:cut|cutting|slit|slashed|bleeding)\b"
        r"|\b(?:hang|hanging|hanged|hangs) (?:myself|herself|himself|themselves|yourself)\b"
        r"|\bnoose (?:around|round|on) (?:my|her|his|their|your) neck\b"
        r"|\b(?:gun|pistol|revolver) (?:to|against|at) (?:my|her|his|their|your) (?:own )?"
        r"(?:head|temple)\b"
        r"|\b(?:gun|pistol|revolver|barrel) in (?:my|her|his|their|your) mouth\b"
        r"|\b(?:jump|jumping|jumped|leap|leaping) to (?:my|her|his|their|your) death\b"
        r"|\b(?:jump|jumping) off (?:a |the )?(?:bridge|building|roof|skyscraper|cliff) to "
        r"(?:die|end it|end (?:my|her|his|their) life)\b"
        r"|\b(?:starving|starve) (?:myself|herself|himself|themselves)\b"
        r"|\bswallowing (?:a handful of|a bottle of|all the|all (?:my|her|his) ) ?pills\b",
        kind="pattern",
        note="Methods of self-harm, in other words.",
    ),
    rule(
        "self_harm",
        r"\b(?:razor|self inflicted|fresh|deep) cuts on (?:my |her |his |their )?"
        r"(?:arms?|wrists?|thighs?|legs?|skin)\b"
        r"|\bcuts on (?:my|her|his|their) (?:wrists?|thighs?)\b",
        kind="pattern",
        note="Cuts on the body.",
    ),
    rule(
        "self_harm",
        "noose|nooses|want to die|wants to die|wanting to die|about to jump off|"
        "standing on the ledge|on the edge of the roof",
        action="review",
        exceptions="hangman s noose|hangmans noose|lasso",
        note="Signs of suicide without a method: review.",
    ),
    # --- Hate -----------------------------------------------------------------------------
    rule(
        "hate",
        "swastika*|hakenkreuz|heil hitler|sieg heil|seig heil|nazi salute|hitler salute|"
        "hitler|adolf hitler|hitler youth|white power|white pride|white supremac*|"
        "white nationalis*|aryan race|aryan nation*|aryan brotherhood|aryan supremacy|"
        "neo nazi*|neonazi*|kkk|ku klux klan|klansman|klansmen|klan robe*|klan hood*|"
        "klan rally|burning cross|cross burning|1488|14 88|sonnenrad|ss bolts|ss runes|"
        "totenkopf|blackface|black face makeup|yellowface|redface|golliwog*|lynching|"
        "lynch mob|lynched|gas the jews|holocaust denial|holocaust hoax|jewish caricature|"
        "antisemitic caricature|antisemitic cartoon*|antisemitic propaganda|racist caricature|"
        "racist cartoon*|racist propaganda|racist meme*|homophobic propaganda|happy merchant|isis flag|isis fighter*|"
        "isis executioner|jihadi john|great replacement|race war|ethnic cleansing",
        exceptions=r"/\b(?:hindu|buddhist|jain|tibetan|sanskrit)\b(?: \w+){0,3} swastikas?\b/",
        note="Hate symbols, slogans and caricatures.",
    ),
    rule(
        "hate",
        r"\b(?:death to|kill|gas|exterminate|eradicate|hang|wipe out|deport) (?:all |the )?"
        r"(?:jews|jew|muslims|muslim|"
        r"arabs|blacks|black people|gays|gay people|homosexuals|lesbians|trans people|"
        r"transgender people|christians|whites|white people|immigrants|refugees|asians|"
        r"mexicans|hindus|sikhs|gypsies|roma|jewish people)\b",
        kind="pattern",
        note="Calls for violence against a group.",
    ),
    rule(
        "hate",
        "kill them all|kill them|gas them|gas them all|exterminate them|wipe them out|"
        "hang them all|death to them|burn them all",
        kind="phrase",
        context="jews|jewish|muslims|muslim|arabs|blacks|black people|gays|gay people|"
        "homosexuals|lesbians|trans people|transgender|christians|immigrants|refugees|asians|"
        "mexicans|hindus|sikhs|gypsies|roma",
        note="Calls for violence against a group, the group named elsewhere in the prompt.",
    ),
    rule(
        "hate",
        _rot13("avttre|avttn|avttnm|snttbg|xvxr|fcvp|puvax|jrgonpx|genaal|enturnq|gbjryurnq|tbbx|"
               "cbepu zbaxrl|ornare"),
        exceptions=_rot13(
            "fcvp naq fcna|fcvpx naq fcna|puvax va gur nezbe|puvax va gur nezbhe|puvax bs yvtug|"
            "puvaxf va gur nezbe|puvaxf va gur nezbhe"
        ),
        note="Slurs (kept short: extend in the admin).",
    ),
    rule(
        "hate",
        "nazi|nazis|third reich flag|ss officer|ss uniform|waffen ss|gestapo",
        action="review",
        exceptions=(
            r"/\b(?:against|from|fighting|fought|fight|defeat\w*|defeating|resist\w*|"
            r"liberat\w*|escap\w*|hiding from|hunted by|persecuted by|victims of|"
            r"defeat of) (?:the )?nazis?\b|\b(?:grammar|soup) nazi\b/"
        ),
        note="History, films and documentaries: review rather than block.",
    ),
    rule(
        "hate",
        r"\bburn(?:ing|ed|s)? (?:a |the )?(?:quran|koran|bible|torah|talmud)s?\b",
        kind="pattern",
        action="review",
        note="Burning holy books: review.",
    ),
    # --- Other ----------------------------------------------------------------------------
    rule(
        "other",
        r"\b(?:fake|forged|counterfeit|fraudulent) (?:id|ids|id card|passport|passports|"
        r"driver s licen[cs]e|drivers licen[cs]e|driving licen[cs]e|licen[cs]e|money|cash|"
        r"banknotes?|bank notes?|bills|dollars|euros|currency|documents?|diploma|visa|"
        r"identity card|social security card)\b",
        kind="pattern",
        note="Forged documents and money.",
    ),
    rule(
        "other",
        "deepfake*|deep fake*|snorting cocaine|snorting coke|lines of cocaine|line of cocaine|"
        "injecting heroin|shooting up heroin|shooting up|smoking crack|crack pipe|meth pipe|"
        "smoking meth|heroin needle",
        action="review",
        note="Deepfakes and drug use: review.",
    ),
]

# Real public figures: living or recently living, widely known. One rule each, blocked.
# (names, note, exceptions). Surnames alone only where they name nobody and nothing else.
PUBLIC_FIGURES = [
    ("donald trump|donald j trump|trump|melania trump|melania|ivanka trump|ivanka|"
     "donald trump jr",
     "US president", "trump card|trump cards|trump suit|trumped up"),
    ("barack obama|obama|michelle obama", "US president", ""),
    ("joe biden|biden|jill biden|hunter biden", "US president", ""),
    ("kamala harris|kamala", "US vice-president", ""),
    ("jd vance|j d vance", "US vice-president", ""),
    ("hillary clinton|bill clinton", "US politicians", ""),
    ("george w bush|george bush|laura bush", "US president", ""),
    ("nancy pelosi|pelosi", "US politician", ""),
    ("bernie sanders", "US politician", ""),
    ("alexandria ocasio cortez|ocasio cortez", "US politician", ""),
    ("ron desantis|desantis", "US politician", ""),
    ("mike pence", "US politician", ""),
    ("marco rubio", "US politician", ""),
    ("robert f kennedy jr|rfk jr", "US politician", ""),
    ("vladimir putin|putin", "President of Russia", ""),
    ("volodymyr zelensky|zelensk*|zelenskyy|zelenskiy", "President of Ukraine", ""),
    ("xi jinping|jinping|president xi", "President of China", ""),
    ("kim jong un|kim jong-un|kim jongun", "Leader of North Korea", ""),
    ("emmanuel macron|macron|brigitte macron", "President of France", ""),
    ("keir starmer|starmer", "UK prime minister", ""),
    ("rishi sunak|sunak", "UK prime minister", ""),
    ("boris johnson", "UK prime minister", ""),
    ("liz truss", "UK prime minister", ""),
    ("theresa may", "UK prime minister", ""),
    ("nigel farage|farage", "UK politician", ""),
    ("justin trudeau|trudeau", "Canadian prime minister", ""),
    ("mark carney", "Canadian prime minister", ""),
    ("narendra modi|modi", "Indian prime minister", ""),
    ("angela merkel|merkel", "German chancellor", ""),
    ("olaf scholz|scholz", "German chancellor", ""),
    ("friedrich merz", "German chancellor", ""),
    ("giorgia meloni|meloni", "Italian prime minister", ""),
    ("recep tayyip erdogan|erdogan", "President of Turkey", ""),
    ("benjamin netanyahu|netanyahu", "Israeli prime minister", ""),
    ("jair bolsonaro|bolsonaro", "President of Brazil", ""),
    ("lula da silva|luiz inacio lula", "President of Brazil", ""),
    ("javier milei|milei", "President of Argentina", ""),
    ("nicolas maduro", "President of Venezuela", ""),
    ("viktor orban", "Hungarian prime minister", ""),
    ("marine le pen", "French politician", ""),
    ("pedro sanchez", "Spanish prime minister", ""),
    ("ursula von der leyen|von der leyen", "European Commission", ""),
    ("jacinda ardern|ardern", "New Zealand prime minister", ""),
    ("ali khamenei|khamenei", "Supreme Leader of Iran", ""),
    ("mohammed bin salman", "Saudi crown prince", ""),
    ("bashar al assad|bashar assad|al assad", "Syrian president", ""),
    ("claudia sheinbaum|sheinbaum", "President of Mexico", ""),
    ("cyril ramaphosa|ramaphosa", "President of South Africa", ""),
    ("king charles|prince charles|queen camilla", "British royal family",
     r"/\bking charles (?:spaniels?|i|ii|1|2|the first|the second)\b|\bcavalier king charles\b/"),
    ("prince william|kate middleton|princess of wales|catherine middleton",
     "British royal family", "prince william sound|prince william county"),
    ("prince harry|meghan markle|markle", "British royal family", ""),
    ("queen elizabeth ii|queen elizabeth 2|princess diana|lady diana", "British royal family", ""),
    ("the pope|pope francis|pope leo|pope leo xiv|pope benedict", "Popes", ""),
    ("dalai lama", "Religious leader", ""),
    ("osama bin laden|bin laden", "Terrorist", ""),
    ("jeffrey epstein|ghislaine maxwell|harvey weinstein|prince andrew", "Notorious", ""),
    ("elon musk|elon", "Business leader", ""),
    ("jeff bezos|bezos", "Business leader", ""),
    ("mark zuckerberg|zuckerberg", "Business leader", ""),
    ("bill gates", "Business leader", ""),
    ("warren buffett", "Business leader", ""),
    ("steve jobs", "Business leader", ""),
    ("tim cook", "Business leader", ""),
    ("sundar pichai|pichai", "Business leader", ""),
    ("satya nadella|nadella", "Business leader", ""),
    ("sam altman|altman", "Business leader", ""),
    ("jensen huang", "Business leader", ""),
    ("oprah winfrey|oprah", "Television", ""),
    ("taylor swift", "Musician", ""),
    ("beyonce|beyonce knowles", "Musician", ""),
    ("rihanna", "Musician", ""),
    ("kim kardashian|kardashian*|khloe kardashian|kourtney kardashian", "Television", ""),
    ("kylie jenner|kendall jenner|kris jenner|caitlyn jenner", "Television", ""),
    ("kanye west|kanye", "Musician", ""),
    ("selena gomez", "Musician", ""),
    ("ariana grande", "Musician", ""),
    ("billie eilish", "Musician", ""),
    ("lady gaga", "Musician", ""),
    ("justin bieber|bieber|hailey bieber", "Musician", ""),
    ("ed sheeran|sheeran", "Musician", ""),
    ("harry styles", "Musician", ""),
    ("dua lipa", "Musician", ""),
    ("shakira", "Musician", ""),
    ("jennifer lopez|jlo|j lo", "Musician", ""),
    ("miley cyrus", "Musician", ""),
    ("katy perry", "Musician", ""),
    ("sabrina carpenter", "Musician", ""),
    ("olivia rodrigo", "Musician", ""),
    ("nicki minaj", "Musician", ""),
    ("cardi b", "Musician", ""),
    ("lizzo", "Musician", ""),
    ("eminem", "Musician", ""),
    ("snoop dogg", "Musician", ""),
    ("jay z|jayz", "Musician", ""),
    ("travis scott", "Musician", ""),
    ("bad bunny", "Musician", ""),
    ("sean combs|diddy|p diddy|puff daddy", "Musician", "diddy kong"),
    ("lionel messi|messi", "Athlete", ""),
    ("cristiano ronaldo|ronaldo", "Athlete", ""),
    ("neymar", "Athlete", ""),
    ("kylian mbappe|mbappe", "Athlete", ""),
    ("erling haaland|haaland", "Athlete", ""),
    ("lebron james|lebron", "Athlete", ""),
    ("michael jordan", "Athlete", ""),
    ("stephen curry|steph curry", "Athlete", ""),
    ("serena williams|venus williams", "Athlete", ""),
    ("roger federer|federer", "Athlete", ""),
    ("rafael nadal|rafa nadal|nadal", "Athlete", ""),
    ("novak djokovic|djokovic", "Athlete", ""),
    ("usain bolt", "Athlete", ""),
    ("tom brady", "Athlete", ""),
    ("simone biles", "Athlete", ""),
    ("tiger woods", "Athlete", ""),
    ("conor mcgregor", "Athlete", ""),
    ("mike tyson", "Athlete", ""),
    ("david beckham|beckham|victoria beckham", "Athlete", ""),
    ("shohei ohtani|ohtani", "Athlete", ""),
    ("lewis hamilton", "Athlete", ""),
    ("tom cruise", "Actor", ""),
    ("leonardo dicaprio|dicaprio", "Actor", ""),
    ("brad pitt", "Actor", ""),
    ("angelina jolie", "Actor", ""),
    ("johnny depp", "Actor", ""),
    ("scarlett johansson", "Actor", ""),
    ("jennifer aniston", "Actor", ""),
    ("jennifer lawrence", "Actor", ""),
    ("emma watson", "Actor", ""),
    ("emma stone", "Actor", ""),
    ("zendaya", "Actor", ""),
    ("margot robbie", "Actor", ""),
    ("keanu reeves", "Actor", ""),
    ("dwayne johnson|dwayne the rock johnson|the rock johnson", "Actor", ""),
    ("will smith", "Actor", ""),
    ("morgan freeman", "Actor", ""),
    ("tom hanks", "Actor", ""),
    ("robert downey jr|robert downey", "Actor", ""),
    ("chris hemsworth", "Actor", ""),
    ("ryan reynolds", "Actor", ""),
    ("ryan gosling", "Actor", ""),
    ("timothee chalamet|chalamet", "Actor", ""),
    ("gal gadot", "Actor", ""),
    ("sydney sweeney", "Actor", ""),
    ("jenna ortega", "Actor", ""),
    ("millie bobby brown", "Actor", ""),
    ("pedro pascal", "Actor", ""),
    ("henry cavill", "Actor", ""),
    ("jason momoa", "Actor", ""),
    ("natalie portman", "Actor", ""),
    ("nicole kidman", "Actor", ""),
    ("meryl streep", "Actor", ""),
    ("anne hathaway", "Actor", "anne hathaways cottage"),
    ("cillian murphy", "Actor", ""),
    ("arnold schwarzenegger|schwarzenegger", "Actor", ""),
    ("sylvester stallone", "Actor", ""),
    ("jackie chan", "Actor", ""),
    ("paris hilton", "Television", "paris hilton hotel"),
    ("greta thunberg|thunberg", "Activist", ""),
    ("malala yousafzai|malala", "Activist", ""),
    ("joe rogan", "Broadcaster", ""),
    ("mrbeast|mr beast", "Online creator", ""),
    ("pewdiepie", "Online creator", ""),
    ("andrew tate", "Online creator", ""),
    ("al gore", "US vice-president", ""),
    ("kendrick lamar", "Musician", ""),
    ("post malone", "Musician", ""),
    ("the weeknd|weeknd", "Musician", ""),
    ("jungkook|jung kook", "Musician", ""),
    ("jimmy fallon|jimmy kimmel|ellen degeneres", "Television", ""),
    ("travis kelce", "Athlete", ""),
    ("max verstappen|verstappen", "Athlete", ""),
    ("tom holland", "Actor", ""),
    ("zac efron", "Actor", ""),
    ("chris evans|chris pratt|chris pine", "Actor", ""),
    ("robert pattinson", "Actor", ""),
    ("benedict cumberbatch|cumberbatch", "Actor", ""),
    ("daniel radcliffe", "Actor", ""),
    ("hugh jackman", "Actor", ""),
    ("idris elba", "Actor", ""),
    ("denzel washington", "Actor", ""),
    ("samuel l jackson", "Actor", ""),
    ("vin diesel", "Actor", ""),
    ("kevin hart", "Actor", ""),
    ("jason statham|statham", "Actor", ""),
    ("kate winslet", "Actor", ""),
    ("cate blanchett", "Actor", ""),
    ("salma hayek", "Actor", ""),
    ("penelope cruz", "Actor", ""),
    ("megan fox", "Actor", ""),
    ("ana de armas", "Actor", ""),
    ("florence pugh", "Actor", ""),
    ("anya taylor joy", "Actor", ""),
    ("priyanka chopra", "Actor", ""),
    ("shah rukh khan", "Actor", ""),
    ("deepika padukone", "Actor", ""),
]


def add_starter_rules(apps, schema_editor):
    PromptRule = apps.get_model("moderation", "PromptRule")
    AuditRecord = apps.get_model("moderation", "AuditRecord")
    rows = [
        PromptRule(
            kind=data["kind"],
            text=data["text"],
            category=data["category"],
            action=data["action"],
            context=data["context"],
            exceptions=data["exceptions"],
            note=f"{STARTER_NOTE}. {data['note']}",
        )
        for data in RULES
    ]
    rows += [
        PromptRule(
            kind="phrase",
            text=names,
            category="public_figure",
            action="block",
            exceptions=exceptions,
            note=f"{STARTER_NOTE}. {note}.",
        )
        for names, note, exceptions in PUBLIC_FIGURES
    ]
    PromptRule.objects.bulk_create(rows)
    AuditRecord.objects.create(
        action="prompt_rule.starter_set",
        object_type="moderation.promptrule",
        summary=f"Loaded the starter set of {len(rows)} prompt rules",
        reason="Initial rules shipped with the moderation app (migration 0002).",
    )


def bump_rules_version(apps, schema_editor):
    """Running processes recompile at their next screen (the key of moderation.prompts)."""
    try:
        cache.set("moderation:prompt-rules:version", uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001 - no cache at migration time: processes start fresh anyway
        pass


def remove_starter_rules(apps, schema_editor):
    apps.get_model("moderation", "PromptRule").objects.filter(
        created_by__isnull=True, note__startswith=STARTER_NOTE
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [
        migrations.RunPython(add_starter_rules, remove_starter_rules),
        migrations.RunPython(bump_rules_version, bump_rules_version),
    ]
