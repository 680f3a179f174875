"""The tables the synthetic catalog is drawn from (genres, keys, names, words, mix names),
and the few seeded helpers that draw names and titles from them.

Ids, names and slugs of genres and keys follow Beatport (checked against
tests/fixtures/beatport/); where a recording shows a genre name that differs from older lists
("Trap / Wave", "Dance / Electro Pop", "Hard Dance / Hardcore"), the recording wins. Word
lists are ordered most-common first: the catalog draws them with Zipf-like weights, so a
few title words are shared by many tracks, as on a real store.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

from mockserver.model import Genre, Key, SubGenre

W = TypeVar("W")

# (id, name, slug, bpm_min, bpm_max, relative share of the catalog)
_GENRE_ROWS: Final = (
    (1, "Drum & Bass", "drum-bass", 168, 176, 9),
    (2, "Hard Techno", "hard-techno", 140, 158, 4),
    (3, "Electronica", "electronica", 95, 128, 4),
    (5, "House", "house", 118, 128, 9),
    (6, "Techno (Peak Time / Driving)", "techno-peak-time-driving", 125, 140, 9),
    (7, "Trance (Main Floor)", "trance-main-floor", 132, 140, 4),
    (8, "Hard Dance / Hardcore", "hard-dance-hardcore", 150, 180, 2),
    (9, "Breaks / Breakbeat / UK Bass", "breaks-breakbeat-uk-bass", 125, 140, 3),
    (11, "Tech House", "tech-house", 123, 130, 10),
    (12, "Deep House", "deep-house", 115, 125, 6),
    (13, "Psy-Trance", "psy-trance", 136, 148, 3),
    (14, "Minimal / Deep Tech", "minimal-deep-tech", 120, 130, 4),
    (15, "Progressive House", "progressive-house", 120, 128, 5),
    (16, "DJ Tools", "dj-tools", 110, 135, 1),
    (18, "Dubstep", "dubstep", 140, 150, 3),
    (37, "Indie Dance", "indie-dance", 110, 126, 4),
    (38, "Trap / Wave", "trap-wave", 130, 160, 2),
    (39, "Dance / Electro Pop", "dance-electro-pop", 100, 128, 3),
    (41, "Reggae / Dancehall / Dub", "reggae-dancehall-dub", 75, 105, 1),
    (50, "Nu Disco / Disco", "nu-disco-disco", 110, 124, 4),
    (81, "Funky House", "funky-house", 120, 128, 2),
    (85, "Bass / Club", "bass-club", 125, 140, 2),
    (86, "UK Garage / Bassline", "uk-garage-bassline", 128, 140, 2),
    (89, "Afro House", "afro-house", 118, 125, 5),
    (90, "Melodic House & Techno", "melodic-house-techno", 118, 128, 8),
    (91, "Bass House", "bass-house", 124, 130, 2),
    (92, "Techno (Raw / Deep / Hypnotic)", "techno-raw-deep-hypnotic", 125, 138, 5),
    (93, "Organic House / Downtempo", "organic-house-downtempo", 95, 122, 3),
    (94, "Electro (Classic / Detroit / Modern)", "electro-classic-detroit-modern", 120, 135, 1),
    (95, "140 / Deep Dubstep / Grime", "140-deep-dubstep-grime", 138, 142, 1),
    (96, "Mainstage", "mainstage", 124, 130, 4),
    (97, "Jackin House", "jackin-house", 120, 128, 2),
    (98, "Amapiano", "amapiano", 108, 116, 2),
    (99, "Trance (Raw / Deep / Hypnotic)", "trance-raw-deep-hypnotic", 130, 140, 2),
)

GENRES: Final = tuple(Genre(i, n, s, lo, hi) for i, n, s, lo, hi, _ in _GENRE_ROWS)
GENRE_WEIGHTS: Final = tuple(row[5] for row in _GENRE_ROWS)

# (id, name, slug, genre id)
_SUB_GENRE_ROWS: Final = (
    (1, "Liquid", "liquid", 1),
    (2, "Jump Up", "jump-up", 1),
    (3, "Halftime", "halftime", 1),
    (4, "Deep / Hypnotic", "deep-hypnotic", 92),
    (5, "Raw", "raw", 92),
    (6, "Dub Techno", "dub-techno", 92),
    (7, "Acid", "acid", 5),
    (8, "Soulful", "soulful", 5),
    (9, "Latin Tech", "latin-tech", 11),
    (10, "Tech Trance", "tech-trance", 7),
    (11, "Uplifting Trance", "uplifting-trance", 7),
    (12, "Vocal Trance", "vocal-trance", 7),
    (13, "Hardstyle", "hardstyle", 8),
    (14, "Frenchcore", "frenchcore", 8),
    (15, "Melodic Dubstep", "melodic-dubstep", 18),
    (16, "Riddim", "riddim", 18),
    (17, "3Step", "3step", 89),
    (18, "Afro / Latin", "afro-latin", 89),
    (19, "Ambient / Experimental", "ambient-experimental", 3),
    (20, "Downtempo", "downtempo", 93),
)
SUB_GENRES: Final = tuple(SubGenre(*row) for row in _SUB_GENRE_ROWS)

# (id, name, letter, sharp, flat, chord, camelot): ids 1-12 are the minor keys in Camelot
# order (1 "Ab Minor" 1A ... 12 "Db Minor" 12A), 13-24 the major ones (13 "B Major" 1B).
_KEY_ROWS: Final = (
    (1, "Ab Minor", "A", False, True, "Minor", 1),
    (2, "Eb Minor", "E", False, True, "Minor", 2),
    (3, "Bb Minor", "B", False, True, "Minor", 3),
    (4, "F Minor", "F", False, False, "Minor", 4),
    (5, "C Minor", "C", False, False, "Minor", 5),
    (6, "G Minor", "G", False, False, "Minor", 6),
    (7, "D Minor", "D", False, False, "Minor", 7),
    (8, "A Minor", "A", False, False, "Minor", 8),
    (9, "E Minor", "E", False, False, "Minor", 9),
    (10, "B Minor", "B", False, False, "Minor", 10),
    (11, "F# Minor", "F", True, False, "Minor", 11),
    (12, "Db Minor", "D", False, True, "Minor", 12),
    (13, "B Major", "B", False, False, "Major", 1),
    (14, "F# Major", "F", True, False, "Major", 2),
    (15, "Db Major", "D", False, True, "Major", 3),
    (16, "Ab Major", "A", False, True, "Major", 4),
    (17, "Eb Major", "E", False, True, "Major", 5),
    (18, "Bb Major", "B", False, True, "Major", 6),
    (19, "F Major", "F", False, False, "Major", 7),
    (20, "C Major", "C", False, False, "Major", 8),
    (21, "G Major", "G", False, False, "Major", 9),
    (22, "D Major", "D", False, False, "Major", 10),
    (23, "A Major", "A", False, False, "Major", 11),
    (24, "E Major", "E", False, False, "Major", 12),
)
_CHORDS: Final = {"Minor": (1, "A"), "Major": (2, "B")}

KEYS: Final = tuple(
    Key(i, n, letter, sharp, flat, chord, _CHORDS[chord][0], number, _CHORDS[chord][1])
    for i, n, letter, sharp, flat, chord, number in _KEY_ROWS
)
# Minor keys dominate electronic music; the weights make them about twice as common.
KEY_WEIGHTS: Final = tuple(3 if k.chord == "Minor" else 2 for k in KEYS)

# Rekordbox's "classic" Tonality per key id: the usual spelling first, then enharmonics
# some libraries carry instead (files tagged by other tools).
# fmt: off
REKORDBOX_TONALITY: Final[dict[int, tuple[str, ...]]] = {
    1: ("Abm", "G#m"), 2: ("Ebm", "D#m"), 3: ("Bbm", "A#m"), 4: ("Fm",), 5: ("Cm",),
    6: ("Gm",), 7: ("Dm",), 8: ("Am",), 9: ("Em",), 10: ("Bm",), 11: ("F#m", "Gbm"),
    12: ("Dbm", "C#m"), 13: ("B",), 14: ("F#", "Gb"), 15: ("Db", "C#"), 16: ("Ab", "G#"),
    17: ("Eb", "D#"), 18: ("Bb", "A#"), 19: ("F",), 20: ("C",), 21: ("G",), 22: ("D",),
    23: ("A",), 24: ("E",),
}
# fmt: on

# fmt: off
FIRST_NAMES: Final = (
    "Alex", "Adam", "Anna", "Ben", "Chris", "Daniel", "David", "Emma", "Felix", "Finn",
    "Hannah", "Jack", "Jamie", "Jonas", "Julian", "Kai", "Lara", "Leo", "Liam", "Lucas",
    "Luca", "Marco", "Maria", "Mark", "Martin", "Max", "Mia", "Nico", "Nina", "Noah",
    "Oliver", "Oscar", "Paul", "Peter", "Rafael", "Robin", "Sam", "Sara", "Simon", "Sofia",
    "Tom", "Victor", "Yann", "Zoe", "Adrian", "Amelie", "Carl", "Charlotte", "Dennis", "Eli",
    "Gabriel", "Henrik", "Ivan", "Jan", "Kevin", "Layla", "Matteo", "Mila", "Nathan", "Olivia",
    "Pablo", "Quentin", "Rosa", "Stefan", "Tara", "Ulrich", "Vera", "Wim", "Xavier", "Yara",
    "José", "Zoë", "Søren", "Jürgen", "Björn", "Agnès", "Renée", "Ramón", "Iñigo", "João",
    "Łukasz", "Zoltán", "Émile", "Hélène", "André", "Çağla", "Ólafur", "Ørjan", "François",
    "Mateusz", "Aurélie", "Nuño", "Chloé", "Sébastien", "Andrés", "Jérôme", "Eléonore",
)
# fmt: on

# fmt: off
SURNAMES: Final = (
    "Anderson", "Baker", "Becker", "Berg", "Brooks", "Carter", "Costa", "Cruz", "Dalton",
    "Diaz", "Ferrari", "Fischer", "Garcia", "Giordani", "Gray", "Hartmann", "Hayes", "Jensen",
    "Keller", "Klein", "Lang", "Larsen", "Moreau", "Navarro", "Nielsen", "Novak", "Parker",
    "Perez", "Ricci", "Romano", "Rossi", "Ruiz", "Santos", "Schmidt", "Silva", "Stone", "Vega",
    "Wagner", "Walker", "Weber", "Wolf", "Young", "Adler", "Bianchi", "Castro", "Dekker",
    "Engel", "Falk", "Greco", "Holm", "Ivanov", "Janssen", "Kovac", "Lindqvist", "Marino",
    "Moretti", "Ortega", "Petrov", "Quinn", "Reyes", "Sato", "Tanaka", "Vidal", "Yilmaz",
    "Zeller", "Bauer", "Conti", "Duarte", "Esposito", "Fontana", "Hoffmann", "Kramer",
    "Müller", "Peña", "Ibáñez", "Sørensen", "Jørgensen", "Håkansson", "Gonçalves", "Núñez",
    "Šimić", "Dvořák", "Lefèvre", "Öztürk", "Çelik", "Brandão", "Łapiński", "Ferreira",
    "Kühn", "Ångström", "Ruíz", "Sánchez", "Schäfer", "Nováková", "Álvarez",
)
# fmt: on

# One-word aliases are built from a head and a tail ("Nox" + "ia"); these lists give
# thousands of distinct, pronounceable names without real artists' names.
# fmt: off
ALIAS_HEADS: Final = (
    "Kav", "Nox", "Ves", "Tal", "Zer", "Mor", "Lux", "Ark", "Cyr", "Dae", "Eon", "Fal", "Gry",
    "Hex", "Ion", "Jyn", "Kor", "Lyr", "Myr", "Nyx", "Orb", "Pha", "Qui", "Rho", "Syl", "Tek",
    "Umb", "Vor", "Wyn", "Xen", "Yor", "Zan", "Bel", "Cal", "Dro", "Ely", "Fen", "Gal", "Hal",
    "Isk", "Jax", "Kel", "Lum", "Mav", "Nim", "Oki", "Pyr", "Ruv", "Sol", "Tor", "Ula", "Val",
    "Kry", "Ost", "Axo", "Bre", "Cin", "Del", "Eki", "Fro", "Gem", "Hyp", "Ixo", "Kob", "Lev",
    "Mal", "Nel", "Onyx", "Pol", "Rak", "Sev", "Tyr", "Vex", "Zol", "Ama", "Bor", "Cor", "Dun",
)
# fmt: on
# fmt: off
ALIAS_TAILS: Final = (
    "a", "ia", "on", "ex", "is", "ora", "ik", "us", "yn", "ar", "en", "ix", "o", "um", "ine",
    "ette", "ax", "ion", "ara", "ek", "ano", "ist", "yx", "ova", "el", "iq", "era", "oth",
    "ani", "ell", "ius", "ade", "ory", "az", "imo", "ulo", "ée", "ø", "ën", "ä",
)
# fmt: on
# fmt: off
ALIAS_WORDS: Final = (
    "Monolith", "Parallax", "Vortex", "Solace", "Kinetic", "Halcyon", "Pyramid", "Obsidian",
    "Tectonic", "Spectre", "Catalyst", "Aether", "Meridian", "Cobalt", "Helix", "Quasar",
    "Vantage", "Nomad", "Ember", "Cipher", "Drifter", "Outlander", "Pilgrim", "Sentinel",
    "Voyager", "Mirage", "Zenith", "Nadir", "Oracle", "Paragon", "Rogue", "Talisman",
)
# fmt: on
# fmt: off
BAND_ADJECTIVES: Final = (
    "Lost", "Silent", "Electric", "Golden", "Hidden", "Broken", "Velvet", "Neon", "Hollow",
    "Crystal", "Distant", "Northern", "Analog", "Human", "Secret", "Endless", "Wild", "Modern",
)
# fmt: on
# fmt: off
BAND_NOUNS: Final = (
    "Frequencies", "Machines", "Signals", "Ghosts", "Circles", "Lights", "Echoes", "Rivers",
    "Tapes", "Waves", "Pilots", "Animals", "Mirrors", "Engines", "Strangers", "Satellites",
)
# fmt: on
# Names in other scripts, with the romanised slug Beatport would show.
# fmt: off
NON_LATIN_ARTISTS: Final = (
    ("Пётр Волков", "petr-volkov"), ("Дмитрий Соколов", "dmitriy-sokolov"),
    ("Анна Морозова", "anna-morozova"), ("Кирилл Лебедев", "kirill-lebedev"),
    ("Ника Зорина", "nika-zorina"), ("Ёжик", "yozhik"),
    ("Νίκος Παπαδόπουλος", "nikos-papadopoulos"), ("Σταύρος", "stavros"),
    ("Ελένη Κώστα", "eleni-kosta"), ("Άρης Νεφέλη", "aris-nefeli"),
    ("坂本ユウキ", "sakamoto-yuki"), ("田中健", "tanaka-ken"), ("ヨシダ", "yoshida"),
    ("夜光", "yakou"), ("サクラ電子", "sakura-denshi"), ("森ノ音", "mori-no-oto"),
)
# fmt: on
# (style, weight): how an artist's name is made; see catalog.compose_artist.
# fmt: off
ARTIST_STYLES: Final = (
    ("first_last", 30), ("first_alias", 10), ("alias", 26), ("alias_word", 5),
    ("lower_alias", 5), ("alias_number", 3), ("dj", 6), ("duo", 8), ("band", 6),
)
# fmt: on

# fmt: off
TITLE_WORDS: Final = (
    "Love", "Night", "Feel", "Dark", "Light", "Time", "Dream", "Fire", "Heart", "Soul",
    "Body", "Move", "Deep", "Lost", "Rise", "Sun", "Moon", "Stars", "Alive", "Forever",
    "Higher", "Energy", "Rhythm", "Groove", "Dance", "Paradise", "Gravity", "Echo",
    "Midnight", "Shadow", "Storm", "Ocean", "Desire", "Mirror", "Signal", "Pulse", "Waves",
    "Control", "Freedom", "Tonight", "Sky", "Gold", "Silver", "Summer", "Winter", "Home",
    "Hold", "Gone", "Run", "Fall", "Burn", "Breathe", "Closer", "Together", "Again", "Away",
    "Falling", "Stay", "Never", "Always", "Only", "Real", "True", "Wild", "Free", "Memories",
    "Sunrise", "Sunset", "Horizon", "Motion", "Voices", "Colours", "Shine", "Ghost", "Fever",
    "Magic", "Tribe", "Jungle", "Spirit", "Oxygen", "Atlas", "Orbit", "Eclipse", "Nova",
    "Phoenix", "Tempest", "Illusion", "Reflection", "Emotion", "Silence", "Vision",
    "Machine", "System", "Circuit", "Frequency", "Voltage", "Binary", "Static", "Chrome",
    "Neon", "Velvet", "Crystal", "Diamond", "Thunder", "Rain", "River", "Desert", "Island",
    "Garden", "Temple", "Tower", "Bridge", "Street", "City", "Highway", "Station", "Harbour",
    "Aurora", "Nebula", "Kaleidoscope", "Serotonin", "Equinox", "Solstice", "Monsoon",
    "Labyrinth", "Zephyr", "Tundra", "Cascade", "Meridian", "Polaris", "Vertigo", "Catalyst",
    "Prism", "Quasar", "Synapse", "Helix", "Odyssey", "Nirvana", "Mirage", "Oasis", "Sahara",
    "Havana", "Tokyo", "Berlin", "Detroit", "Ibiza", "Lagos", "Kyoto", "Lisbon", "Marrakech",
    "Café", "Señorita", "Über", "Mañana", "Déjà Vu", "Noël", "Corazón", "Naïve", "Résistance",
    "Élan", "Fiesta", "Amor", "Bailar", "Sueño", "Ciudad", "Ménage", "Fräulein", "Smörgås",
    "Acid", "Bassline", "Drum", "Kick", "Loop", "Jack", "Funk", "Disco", "Boogie", "Swing",
    "Hypnotic", "Trance", "Ritual", "Voodoo", "Tribal", "Primal", "Cosmic", "Galactic",
    "Elevate", "Ascend", "Surrender", "Awaken", "Believe", "Remember", "Escape", "Collide",
    "Ignite", "Unfold", "Wander", "Drift", "Glide", "Shatter", "Resonate", "Dissolve",
    "Paper", "Glass", "Stone", "Iron", "Copper", "Marble", "Amber", "Jade", "Cobalt", "Indigo",
    "Crimson", "Scarlet", "Violet", "Azure", "Obsidian", "Ivory", "Onyx", "Sapphire",
    "Wolves", "Tiger", "Falcon", "Raven", "Serpent", "Panther", "Jaguar", "Dragon", "Lion",
    "Secret", "Stranger", "Promise", "Lullaby", "Anthem", "Hymn", "Prayer", "Mantra", "Chant",
    "Blue", "Red", "Black", "White", "Green", "Purple", "Orange", "Pink", "Grey", "Yellow",
    "Wonder", "Hunger", "Thirst", "Pressure", "Tension", "Release", "Balance", "Chaos",
)
# fmt: on
# Title shapes; {a} and {b} are title words, the rest is fixed text. (pattern, weight)
# fmt: off
TITLE_PATTERNS: Final = (
    ("{a}", 30), ("{a} {b}", 30), ("The {a}", 5), ("{a} of {b}", 5), ("{a} & {b}", 3),
    ("In the {a}", 3), ("Feel the {a}", 2), ("{a} Me", 3), ("No {a}", 2),
    ("{a} Tonight", 2), ("{a} {b} {c}", 6), ("{a} in {b}", 2), ("{a} to {b}", 2),
    ("Don't Stop the {a}", 1), ("I Feel {a}", 1), ("{a} ({b})", 1),
)
# fmt: on
EP_SUFFIXES: Final = (("EP", 6), ("", 3), ("LP", 1))

# fmt: off
LABEL_WORDS: Final = (
    "Crimson", "Hollow", "Night Shift", "Deep Motion", "Echo Chamber", "Silver Lining",
    "Urban Pulse", "Northern Lights", "Obsidian", "Parallel", "Subterra", "Neon", "Velvet",
    "Concrete", "Mono", "Stereo", "Analog", "Circuit", "Lunar", "Solar", "Polar", "Kinetic",
    "Binary", "Cobalt", "Ember", "Granite", "Harbor", "Iris", "Jade", "Lumen", "Magnet",
    "Nautilus", "Orbit", "Pacifica", "Quarry", "Radiant", "Sable", "Tidal", "Umbra", "Vertex",
    "Warehouse", "Zenith", "Afterglow", "Basement", "Cellar", "Dawn", "Elevation", "Foundry",
    "Gravity", "Horizon", "Inner Space", "Jungle", "Kiosk", "Lighthouse", "Midnight",
    "Nocturne", "Outpost", "Prism", "Rhythm Section", "Satellite", "Terminal", "Undertone",
    "Voyage", "Wavelength", "Atlas", "Bloom", "Compass", "Driftwood", "Eclipse", "Fathom",
    "Glasshouse", "Hypnotic", "Isolated", "Kaleido", "Loop", "Meridian", "Nomad", "Overture",
    "Äther", "Fräulein", "Señal", "Éclat", "Nordlys", "Øresund", "Kōan", "Żuraw",
)
# fmt: on
# fmt: off
LABEL_SUFFIXES: Final = (
    ("Records", 30), ("Recordings", 20), ("Music", 15), ("", 20), ("Audio", 8),
    ("Digital", 3), ("Sounds", 4), ("Trax", 2), ("Limited", 2),
)
# fmt: on
# Catalog-number endings a label sticks to ("VSN074D"), with weights.
CATALOG_SUFFIXES: Final = (("", 12), ("D", 4), ("DIGI", 1), ("X", 1), ("BP", 1))
ISRC_COUNTRIES: Final = ("GB", "NL", "DE", "US", "FR", "IT", "ES", "BE", "SE", "AU", "CA", "UK")

# Mix kinds: (mix-name template with {r} for the remixer, length range in seconds,
# whether the version keeps the title's BPM and key). A remix is a new production.
MIX_KINDS: Final[dict[str, tuple[str, int, int, bool]]] = {
    "original": ("Original Mix", 300, 470, True),
    "extended": ("Extended Mix", 330, 480, True),
    "radio": ("Radio Edit", 150, 215, True),
    "edit": ("Edit", 170, 260, True),
    "dub": ("Dub", 300, 450, True),
    "dub_mix": ("Dub Mix", 300, 450, True),
    "vip": ("VIP", 240, 400, False),
    "vip_mix": ("VIP Mix", 240, 400, False),
    "remix": ("{r} Remix", 290, 460, False),
    "extended_remix": ("{r} Extended Remix", 330, 480, False),
}
# Versions of one title on a single release: (kind, remixer slot or -1), with weights.
# Slots let one remixer deliver both a remix and its extended remix.
SINGLE_PLANS: Final = (
    ((("original", -1),), 30),
    ((("original", -1), ("extended", -1)), 6),
    ((("extended", -1), ("radio", -1)), 10),
    ((("original", -1), ("radio", -1)), 4),
    ((("original", -1), ("dub", -1)), 3),
    ((("original", -1), ("dub_mix", -1)), 2),
    ((("original", -1), ("edit", -1)), 3),
    ((("original", -1), ("remix", 0)), 10),
    ((("original", -1), ("remix", 0), ("remix", 1)), 8),
    ((("original", -1), ("extended", -1), ("remix", 0), ("remix", 1)), 4),
    ((("extended", -1), ("radio", -1), ("extended_remix", 0), ("remix", 0)), 4),
    ((("original", -1), ("remix", 0), ("remix", 1), ("remix", 2), ("dub", -1)), 2),
    ((("vip", -1),), 2),
    ((("original", -1), ("vip_mix", -1)), 2),
)
# A later release of remixes of an earlier title.
REMIX_PLANS: Final = (
    ((("remix", 0),), 6),
    ((("extended_remix", 0),), 4),
    ((("extended_remix", 0), ("remix", 0)), 3),
    ((("remix", 0), ("remix", 1)), 4),
    ((("remix", 0), ("remix", 1), ("remix", 2)), 2),
    ((("extended_remix", 0), ("extended_remix", 1), ("remix", 2), ("remix", 3)), 1),
)
# (shape, weight): what kind of release comes next.
RELEASE_SHAPES: Final = (("single", 60), ("ep", 28), ("remixes", 12))
EP_VERSIONS: Final = ((("original", -1),), (("extended", -1),))

# Letters that Unicode decomposition does not reduce to ASCII, for folding and slugs.
# fmt: off
SPECIAL_LETTERS: Final = {
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "đ": "d",
    "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i",
}
# fmt: on


# -- Drawing from the tables ----------------------------------------------------------


class Weighted(Generic[W]):
    """A seeded weighted choice over precomputed cumulative weights (bisect, no scan)."""

    __slots__ = ("_cum", "_items", "_random", "_total")

    def __init__(self, rng: random.Random, items: Sequence[W], weights: Sequence[float]) -> None:
        self._random = rng.random
        self._items = items
        self._cum = list(itertools.accumulate(weights))
        self._total = self._cum[-1]

    @classmethod
    def rows(cls, rng: random.Random, rows: Sequence[tuple[W, float]]) -> Weighted[W]:
        """A chooser over (item, weight) rows."""
        return cls(rng, [item for item, _ in rows], [weight for _, weight in rows])

    def pick(self) -> W:
        return self._items[bisect_left(self._cum, self._random() * self._total)]


def zipf_weights(n: int, offset: float) -> list[float]:
    """Weights 1/(rank + offset): a few items are common, most are rare."""
    return [1.0 / (rank + offset) for rank in range(n)]


def _alias(r: random.Random) -> str:
    return r.choice(ALIAS_HEADS) + r.choice(ALIAS_TAILS)


_ARTIST_MAKERS: Final[dict[str, Callable[[random.Random], str]]] = {
    "first_last": lambda r: f"{r.choice(FIRST_NAMES)} {r.choice(SURNAMES)}",
    "first_alias": lambda r: f"{r.choice(FIRST_NAMES)} {_alias(r)}",
    "alias": _alias,
    "alias_word": lambda r: r.choice(ALIAS_WORDS),
    "lower_alias": lambda r: _alias(r).lower(),
    "alias_number": lambda r: f"{_alias(r).lower()}{r.randint(2, 99)}",
    "dj": lambda r: f"DJ {r.choice((_alias(r), r.choice(FIRST_NAMES)))}",
    "duo": lambda r: f"{_alias(r)} & {r.choice((_alias(r), r.choice(FIRST_NAMES)))}",
    "band": lambda r: f"{r.choice(BAND_ADJECTIVES)} {r.choice(BAND_NOUNS)}",
}


def compose_artist(rng: random.Random) -> str:
    """A plausible artist name in one of ARTIST_STYLES."""
    style = ARTIST_STYLES[bisect_left(_STYLE_CUM, rng.random() * _STYLE_CUM[-1])][0]
    return _ARTIST_MAKERS[style](rng)


_STYLE_CUM: Final = list(itertools.accumulate(w for _, w in ARTIST_STYLES))


def title_words(rng: random.Random) -> Weighted[str]:
    """The Zipf-weighted title-word chooser the catalog uses."""
    return Weighted(rng, TITLE_WORDS, zipf_weights(len(TITLE_WORDS), 5.0))


def compose_title(rng: random.Random, words: Weighted[str]) -> str:
    """A title from TITLE_PATTERNS filled with distinct title words."""
    pattern = TITLE_PATTERNS[bisect_left(_PATTERN_CUM, rng.random() * _PATTERN_CUM[-1])][0]
    chosen: list[str] = []
    while len(chosen) < pattern.count("{"):
        word = words.pick()
        if word not in chosen:
            chosen.append(word)
    return pattern.format_map(dict(zip("abc", chosen, strict=False)))


_PATTERN_CUM: Final = list(itertools.accumulate(w for _, w in TITLE_PATTERNS))
