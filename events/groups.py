"""The names of the user groups Gather's permissions rest on.

``events.permissions`` answers who may see what with them. They live in a
module of their own, below the models, because ``EventPage.facilitators``
limits its choices to the Facilitators group and ``events.permissions``
imports the models: the models importing ``events.permissions`` would be a
cycle.
"""

#: Coordinators run the program: they see every session and all its people.
COORDINATORS_GROUP = "Coordinators"
#: Facilitators lead events: they see the sessions of the events they lead.
FACILITATORS_GROUP = "Facilitators"
#: Editors write the site's pages and the workshop library; they see no
#: participant data.
EDITORS_GROUP = "Editors"
